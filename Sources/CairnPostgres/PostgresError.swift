import Foundation

/// What goes wrong with PostgreSQL sources; every message says what to do.
public enum PostgresError: Error, CustomStringConvertible, Sendable {
    case badHistory(timeline: UInt32, line: String)
    case badWALName(String)
    /// The archive already holds this file with other content.
    case conflictingWAL(file: String, archived: String, pushed: String)
    case connection(String)
    case query(sql: String, message: String)
    case unsupportedServer(Int)
    case walGap(missing: [String], needed: String)
    case targetBeyondArchive(target: String, archiveEnd: String)
    case targetBeforeBackup(target: String, backupEnd: String)
    case noBaseBackup(String)
    case timeline(String)
    case pgdata(String)
    case childFailed(program: String, status: Int32, stderr: String)
    case programNotFound(String)
    case other(String)

    public var description: String {
        switch self {
        case .badHistory(let t, let l): return "timeline history file of timeline \(t) is malformed at \(l.debugDescription)"
        case .badWALName(let n): return "\(n.debugDescription) is not a WAL file name PostgreSQL archives (segment, .partial, .backup or .history)"
        case .conflictingWAL(let f, let a, let p):
            return "\(f) is already archived with different content (archived sha256 \(a.prefix(16))…, this file \(p.prefix(16))…): refusing to overwrite; two servers may be archiving into the same WAL name (check the system identifier and CAIRN_PG_WAL_NAME)"
        case .connection(let m): return "cannot connect to PostgreSQL: \(m)"
        case .query(let sql, let m): return "query \(sql.debugDescription) failed: \(m)"
        case .unsupportedServer(let v): return "PostgreSQL server version \(v) is not supported (12 or newer is)"
        case .walGap(let missing, let needed):
            let shown = missing.prefix(5).joined(separator: ", ") + (missing.count > 5 ? " and \(missing.count - 5) more" : "")
            return "the WAL archive has a gap: \(missing.count) file(s) needed \(needed) are missing (\(shown)); recovery would stop early. Nothing was written"
        case .targetBeyondArchive(let t, let e):
            return "the recovery target \(t) is past the end of the WAL archive (\(e)); run 'SELECT pg_switch_wal()' on the server and wait for archiving, or choose an earlier target"
        case .targetBeforeBackup(let t, let e):
            return "the recovery target \(t) is before the chosen base backup finished (\(e)); choose an older base backup (--snapshot) or a later target"
        case .noBaseBackup(let m): return m
        case .timeline(let m): return m
        case .pgdata(let m): return m
        case .childFailed(let p, let s, let e):
            let cause = Self.cause(stderr: e, program: p)
            return "\(p) failed with exit status \(s)\(cause.isEmpty ? "" : ": \(cause)")"
        case .programNotFound(let p): return "\(p) not found: install the PostgreSQL client (Debian: postgresql-client) or set CAIRN_PG_BIN to its directory"
        case .other(let m): return m
        }
    }

    /// The line of a PostgreSQL tool's stderr that says what went wrong: the
    /// first error (`pg_restore: error: could not execute query: ERROR:  database
    /// "x" already exists`), not the last line, which is often context such as
    /// "Command was: CREATE DATABASE …"; that context follows, shortened.
    static func cause(stderr: String, program: String) -> String {
        let lines = stderr.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        func strip(_ l: String) -> String {
            var l = l
            for prefix in [program + ": error: ", program + ": ", "error: "] where l.hasPrefix(prefix) { l.removeFirst(prefix.count); break }
            return l
        }
        let markers = ["ERROR:", "FATAL:", "PANIC:", "error:", "fatal:"]
        guard let i = lines.firstIndex(where: { l in markers.contains { l.contains($0) } }) else {
            return lines.last.map(strip) ?? ""
        }
        var cause = strip(lines[i])
        if let command = lines[(i + 1)...].first(where: { $0.hasPrefix("Command was:") }) {
            cause += " (" + (command.count > 100 ? String(command.prefix(100)) + "…" : command) + ")"
        }
        if cause.contains("already exists") && lines.contains(where: { $0.contains("CREATE DATABASE") }) {
            cause += "; drop that database first, or restore without --create into an empty database made with createdb"
        }
        return cause
    }
}
