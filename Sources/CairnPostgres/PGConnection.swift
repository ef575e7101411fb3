import CairnSystem
import CLibPQ
#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection. Used from one task at a time (a base backup holds
/// it from `pg_backup_start` to `pg_backup_stop`); closing it ends a backup
/// that was not stopped, as PostgreSQL's non-exclusive backup API intends.
public final class PGConnection: @unchecked Sendable {
    private let conn: OpaquePointer

    /// Connects with a libpq connection string or URI ("" uses the PG* environment variables).
    /// Throws `LazyLibraryError` when libpq (libpq.so.5, loaded on first use) is missing.
    public init(_ conninfo: String) throws {
        try LazyLibraryError.check(cairn_pq_load())
        guard let c = cairn_PQconnectdb(conninfo) else { throw PostgresError.connection("out of memory") }
        guard cairn_PQstatus(c) == CONNECTION_OK else {
            let message = Self.oneLine(cairn_PQerrorMessage(c))
            cairn_PQfinish(c)
            throw PostgresError.connection(message)
        }
        conn = c
    }

    deinit { cairn_PQfinish(conn) }

    /// `server_version_num`, e.g. 150020.
    public var serverVersion: Int { Int(cairn_PQserverVersion(conn)) }

    /// Runs one statement with text parameters ($1, $2, ...); returns the rows as text (nil for NULL).
    @discardableResult
    public func query(_ sql: String, _ parameters: [String] = []) throws -> [[String?]] {
        let cParams = parameters.map { strdup($0) }
        defer { cParams.forEach { free($0) } }
        let result: OpaquePointer? = cParams.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(1, buf.count)) { p in
                cairn_PQexecParams(conn, sql, Int32(parameters.count), nil, parameters.isEmpty ? nil : p, nil, nil, 0)
            }
        }
        guard let result else { throw PostgresError.query(sql: sql, message: Self.oneLine(cairn_PQerrorMessage(conn))) }
        defer { cairn_PQclear(result) }
        let status = cairn_PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
            throw PostgresError.query(sql: sql, message: Self.oneLine(cairn_PQresultErrorMessage(result)))
        }
        var rows: [[String?]] = []
        for r in 0..<cairn_PQntuples(result) {
            var row: [String?] = []
            for c in 0..<cairn_PQnfields(result) {
                row.append(cairn_PQgetisnull(result, r, c) == 1 ? nil : String(cString: cairn_PQgetvalue(result, r, c)))
            }
            rows.append(row)
        }
        return rows
    }

    /// The first column of the first row.
    public func value(_ sql: String, _ parameters: [String] = []) throws -> String {
        guard let v = try query(sql, parameters).first?.first ?? nil else {
            throw PostgresError.query(sql: sql, message: "returned no value")
        }
        return v
    }

    static func oneLine(_ p: UnsafePointer<CChar>?) -> String {
        guard let p else { return "unknown error" }
        return String(cString: p).split(separator: "\n").map { $0.trimmingCharacters(in: " \t") }.joined(separator: "; ")
    }
}

/// A libpq connection string taken apart (`PQconninfoParse`): the settings as
/// `PG*` environment variables, so child programs get them without a command line.
public struct ConnectionSettings: Sendable {
    /// keyword → value, for the keywords the string set.
    public var values: [String: String] = [:]
    /// environment variable → value.
    public var environment: [String: String] = [:]

    /// Parses a connection string or URI; throws on a syntax error or a password in it, and
    /// `LazyLibraryError` when libpq is missing.
    public init(_ conninfo: String) throws {
        try LazyLibraryError.check(cairn_pq_load())
        var err: UnsafeMutablePointer<CChar>? = nil
        guard let opts = cairn_PQconninfoParse(conninfo, &err) else {
            let m = err.map { String(cString: $0) } ?? "cannot parse"
            if let err { cairn_PQfreemem(err) }
            throw PostgresError.connection("bad connection string: \(m.trimmingCharacters(in: "\n "))")
        }
        defer { cairn_PQconninfoFree(opts) }
        var p = opts
        while let kw = p.pointee.keyword {
            if let val = p.pointee.val {
                let k = String(cString: kw), v = String(cString: val)
                values[k] = v
                if let env = p.pointee.envvar { environment[String(cString: env)] = v }
            }
            p += 1
        }
        if values["password"] != nil {
            throw PostgresError.connection("the connection string holds a password, which would show on command lines and in process lists; put it in ~/.pgpass (or PGPASSFILE) or PGPASSWORD instead")
        }
    }
}
