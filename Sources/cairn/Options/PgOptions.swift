import ArgumentParser
import CairnEngine
import CairnRepository
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Options of the PostgreSQL commands: the env file the server's
/// `archive_command`/`restore_command` read, and the WAL archive's name.
struct PgOptions: ParsableArguments {
    @Option(help: "File of KEY=VALUE lines (CAIRN_REPO, CAIRN_PASSWORD_FILE, CAIRN_CACHE_DIR, CAIRN_PG_WAL_NAME) applied before anything else (default: $CAIRN_ENV_FILE).")
    var envFile: String?

    @Option(help: "Name of the WAL archive's snapshots (default: $CAIRN_PG_WAL_NAME or pg-wal).")
    var walName: String?

    /// Applies the env file; its values override the environment.
    func apply() throws {
        try PgEnvFile.apply(envFile ?? ProcessInfo.processInfo.environment["CAIRN_ENV_FILE"])
    }

    /// The WAL name, read after `apply()`.
    var resolvedWALName: String { Self.walName(option: walName) }

    /// The WAL name given as `option`, else $CAIRN_PG_WAL_NAME, else "pg-wal" (read after the env
    /// file is applied; wal-fetch's quick path, which runs before the argument parser, reads it too).
    static func walName(option: String?) -> String {
        if let option, !option.isEmpty { return option }
        if let n = ProcessInfo.processInfo.environment["CAIRN_PG_WAL_NAME"], !n.isEmpty { return n }
        return "pg-wal"
    }

    /// The env file in effect, as an absolute path (for the restore_command a restore writes).
    var resolvedEnvFile: String? {
        guard let f = envFile ?? ProcessInfo.processInfo.environment["CAIRN_ENV_FILE"], !f.isEmpty else { return nil }
        return f.hasPrefix("/") ? f : FileManager.default.currentDirectoryPath + "/" + f
    }
}

/// Reads an env file: `KEY=VALUE` lines, `#` comments, an optional `export `,
/// values optionally in single or double quotes.
enum PgEnvFile {
    /// Files already applied in this process (every command applies $CAIRN_ENV_FILE, pg ones again).
    /// A file that failed is not in it: applied again, it fails again with its error (`wal-fetch`'s
    /// quick path tries before the command does).
    nonisolated(unsafe) private static var applied: Set<String> = []
    /// Files warned about as readable by every user (once per process).
    nonisolated(unsafe) private static var warned: Set<String> = []

    static func apply(_ path: String?) throws {
        guard let path, !path.isEmpty, !applied.contains(path) else { return }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CairnError.invalidArgument("cannot read the env file \(path): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & 0o004 != 0, warned.insert(path).inserted {
            Terminal.warn("env file \(path) is readable by every user; chmod 640 (owner root, group postgres)")
        }
        for (n, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let eq = line.firstIndex(of: "="), eq != line.startIndex else {
                throw CairnError.invalidArgument("env file \(path) line \(n + 1): expected KEY=VALUE")
            }
            let key = String(line[..<eq]).trimmingCharacters(in: .whitespaces)
            var value = String(line[line.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let f = value.first, f == "\"" || f == "'", value.last == f { value = String(value.dropFirst().dropLast()) }
            guard key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw CairnError.invalidArgument("env file \(path) line \(n + 1): \(key.debugDescription) is not a variable name")
            }
            setenv(key, value, 1)
        }
        applied.insert(path)
    }
}

/// Parses a recovery target time to the nanosecond: RFC 3339
/// (`2026-01-31T02:00:00.123456Z`, `…+01:00`) or PostgreSQL's
/// `2026-01-31 02:00:00.123456+00`.
enum TargetTime {
    static func parse(_ s: String) -> Int64? {
        let pattern = #"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|z|[+-]\d{2}(:?\d{2})?)$"#
        guard let re = try? NSRegularExpression(pattern: pattern),
              let m = re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else { return nil }
        func group(_ i: Int) -> String? { Range(m.range(at: i), in: s).map { String(s[$0]) } }
        guard let y = Int32(group(1) ?? ""), let mo = Int32(group(2) ?? ""), let d = Int32(group(3) ?? ""),
              let h = Int32(group(4) ?? ""), let mi = Int32(group(5) ?? ""), let se = Int32(group(6) ?? ""),
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se < 61 else { return nil }
        var parts = tm()
        parts.tm_year = y - 1900; parts.tm_mon = mo - 1; parts.tm_mday = d; parts.tm_hour = h; parts.tm_min = mi; parts.tm_sec = se
        var seconds = Int64(timegm(&parts))
        var nanos: Int64 = 0
        if let f = group(7) {
            let digits = f.dropFirst()
            nanos = Int64(digits + String(repeating: "0", count: 9 - digits.count)) ?? 0
        }
        if let z = group(8), z != "Z", z != "z" {
            let sign: Int64 = z.hasPrefix("-") ? -1 : 1
            let body = z.dropFirst().replacingOccurrences(of: ":", with: "")
            let hh = Int64(body.prefix(2)) ?? 0, mm = Int64(body.dropFirst(2)) ?? 0
            seconds -= sign * (hh * 3600 + mm * 60)
        }
        return seconds * 1_000_000_000 + nanos
    }
}
