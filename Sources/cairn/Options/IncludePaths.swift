import CairnEngine
import CairnRepository
import CairnFormat
import Foundation

/// `--include` paths as the bytes they name. A path may be given raw (its
/// bytes as they are on disk, invalid UTF-8 included: read from the process's
/// own argv, since Swift's arguments replace such bytes) or as `ls` prints it,
/// escaped (`\n`, `\xe9`, `\\`, `EscapedText`). The raw reading wins when both
/// name an entry of the snapshot.
enum IncludePaths {
    static func resolve(_ includes: [String], option: String? = "--include", record: SnapshotRecord, repo: Repository) async throws -> [[[UInt8]]] {
        let browser = SnapshotBrowser(repo: repo)
        var out: [[[UInt8]]] = []
        for include in includes {
            let raw = rawBytes(of: include, option: option)
            var candidates = [components(raw)]
            if raw.contains(0x5C), let unescaped = EscapedText.unescape(String(decoding: raw, as: UTF8.self)), unescaped != raw {
                candidates.append(components(unescaped))
            }
            var chosen = candidates[0]
            for c in candidates where try await browser.node(at: c, in: record) != nil { chosen = c; break }
            out.append(chosen)
        }
        return out
    }

    /// "/a//b/" → ["a", "b"].
    static func components(_ path: [UInt8]) -> [[UInt8]] {
        path.split(separator: 47).map(Array.init)
    }

    /// The bytes the user typed for this argument value: Swift's
    /// `CommandLine.arguments` replaces invalid UTF-8 with U+FFFD, so a value
    /// holding it is looked up in the raw argv (`--include VALUE`, `--include=VALUE`).
    /// With `option` nil the value is a positional argument: the argv entry it decodes from.
    static func rawBytes(of value: String, option: String?) -> [UInt8] {
        guard value.unicodeScalars.contains("\u{FFFD}") else { return Array(value.utf8) }
        let argv = (0..<Int(CommandLine.argc)).compactMap { i -> [UInt8]? in
            guard let p = CommandLine.unsafeArgv[i] else { return nil }
            return Array(UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: strlen(p)))
        }
        guard let option else {
            return argv.dropFirst().first { String(decoding: $0, as: UTF8.self) == value } ?? Array(value.utf8)
        }
        let prefix = Array((option + "=").utf8)
        for (i, arg) in argv.enumerated() {
            if arg.starts(with: prefix), String(decoding: arg.dropFirst(prefix.count), as: UTF8.self) == value { return Array(arg.dropFirst(prefix.count)) }
            if i > 0, argv[i - 1] == Array(option.utf8), String(decoding: arg, as: UTF8.self) == value { return arg }
        }
        return Array(value.utf8)
    }
}
