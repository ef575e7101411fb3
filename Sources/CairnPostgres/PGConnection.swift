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
    public init(_ conninfo: String) throws {
        guard let c = PQconnectdb(conninfo) else { throw PostgresError.connection("out of memory") }
        guard PQstatus(c) == CONNECTION_OK else {
            let message = Self.oneLine(PQerrorMessage(c))
            PQfinish(c)
            throw PostgresError.connection(message)
        }
        conn = c
    }

    deinit { PQfinish(conn) }

    /// `server_version_num`, e.g. 150020.
    public var serverVersion: Int { Int(PQserverVersion(conn)) }

    /// Runs one statement with text parameters ($1, $2, ...); returns the rows as text (nil for NULL).
    @discardableResult
    public func query(_ sql: String, _ parameters: [String] = []) throws -> [[String?]] {
        let cParams = parameters.map { strdup($0) }
        defer { cParams.forEach { free($0) } }
        let result: OpaquePointer? = cParams.withUnsafeBufferPointer { buf in
            buf.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(1, buf.count)) { p in
                PQexecParams(conn, sql, Int32(parameters.count), nil, parameters.isEmpty ? nil : p, nil, nil, 0)
            }
        }
        guard let result else { throw PostgresError.query(sql: sql, message: Self.oneLine(PQerrorMessage(conn))) }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
            throw PostgresError.query(sql: sql, message: Self.oneLine(PQresultErrorMessage(result)))
        }
        var rows: [[String?]] = []
        for r in 0..<PQntuples(result) {
            var row: [String?] = []
            for c in 0..<PQnfields(result) {
                row.append(PQgetisnull(result, r, c) == 1 ? nil : String(cString: PQgetvalue(result, r, c)))
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

    /// Parses a connection string or URI; throws on a syntax error or a password in it.
    public init(_ conninfo: String) throws {
        var err: UnsafeMutablePointer<CChar>? = nil
        guard let opts = PQconninfoParse(conninfo, &err) else {
            let m = err.map { String(cString: $0) } ?? "cannot parse"
            if let err { PQfreemem(err) }
            throw PostgresError.connection("bad connection string: \(m.trimmingCharacters(in: "\n "))")
        }
        defer { PQconninfoFree(opts) }
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
