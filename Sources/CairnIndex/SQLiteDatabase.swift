import CSQLite3
import CairnFormat

/// An error from SQLite, with the statement's context.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public var description: String { "index database error \(code): \(message)" }

    public init(code: Int32, message: String) { self.code = code; self.message = message }

    /// The file itself is damaged or is no database (SQLITE_CORRUPT, SQLITE_NOTADB, with their
    /// extended codes): the only errors for which a cache is thrown away and refilled. A busy or
    /// locked database, a full disk or an I/O error says nothing against the file, and in a cache
    /// other processes share, deleting it would pull it from under them.
    public var meansDamagedFile: Bool {
        let primary = code & 0xff
        return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB
    }
}

/// A minimal SQLite connection. Not thread-safe by itself: `RepositoryIndex`
/// serialises access.
final class SQLiteDatabase: @unchecked Sendable {
    let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]

    init(path: String) throws {
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close(db) }
            throw SQLiteError(code: rc, message: "\(path): \(msg)")
        }
        handle = db
        sqlite3_busy_timeout(db, 10_000)
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let msg = err.map { String(cString: $0) } ?? "unknown"
            sqlite3_free(err)
            throw SQLiteError(code: rc, message: msg)
        }
    }

    /// Runs `body` in one deferred (read) transaction, unless one is open already.
    func readTransaction<R>(_ body: () throws -> R) throws -> R {
        guard sqlite3_get_autocommit(handle) != 0 else { return try body() }
        try execute("BEGIN DEFERRED")
        do {
            let r = try body()
            try execute("COMMIT")
            return r
        } catch {
            endReads()
            try? execute("COMMIT")
            throw error
        }
    }

    /// A cached prepared statement, reset and with bindings cleared.
    func statement(_ sql: String) throws -> SQLiteStatement {
        if let s = statements[sql] { s.reset(); return s }
        let s = try SQLiteStatement(db: self, sql: sql)
        statements[sql] = s
        return s
    }

    /// Resets every statement left on a row. A statement stepped but not
    /// finished keeps a read transaction open on this connection; once another
    /// process writes, this connection's next write fails at once with
    /// SQLITE_BUSY (its WAL snapshot is stale) instead of waiting, and its
    /// reads keep seeing the old snapshot. Called after every index access.
    func endReads() {
        var s = sqlite3_next_stmt(handle, nil)
        while let stmt = s {
            if sqlite3_stmt_busy(stmt) != 0 { sqlite3_reset(stmt) }
            s = sqlite3_next_stmt(handle, stmt)
        }
    }

    func error(_ rc: Int32) -> SQLiteError { SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle))) }

    func transaction<R>(_ body: () throws -> R) throws -> R {
        try execute("BEGIN IMMEDIATE")
        do {
            let r = try body()
            try execute("COMMIT")
            return r
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}

/// A prepared statement with 1-based binds and 0-based columns.
final class SQLiteStatement: @unchecked Sendable {
    private let stmt: OpaquePointer
    private unowned let db: SQLiteDatabase
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    init(db: SQLiteDatabase, sql: String) throws {
        var s: OpaquePointer?
        let rc = sqlite3_prepare_v2(db.handle, sql, -1, &s, nil)
        guard rc == SQLITE_OK, let s else { throw db.error(rc) }
        stmt = s; self.db = db
    }

    deinit { sqlite3_finalize(stmt) }

    func reset() { sqlite3_reset(stmt); sqlite3_clear_bindings(stmt) }

    @discardableResult
    func bind(_ i: Int32, _ v: Int64) -> Self { sqlite3_bind_int64(stmt, i, v); return self }
    @discardableResult
    func bind(_ i: Int32, _ v: String) -> Self { sqlite3_bind_text(stmt, i, v, -1, Self.transient); return self }
    @discardableResult
    func bind(_ i: Int32, _ v: [UInt8]) -> Self {
        v.withUnsafeBytes { _ = sqlite3_bind_blob(stmt, i, $0.baseAddress, Int32($0.count), Self.transient) }
        return self
    }

    /// Binds the 32 bytes of `id` (as `bind(i, id.bytes)`, without the array).
    @discardableResult
    func bind<ID: SHA256Name>(_ i: Int32, id: ID) -> Self {
        withUnsafeTemporaryAllocation(byteCount: ChunkID.byteCount, alignment: 8) { b in
            id.copyBytes(to: b.baseAddress!)
            _ = sqlite3_bind_blob(stmt, i, b.baseAddress, Int32(ChunkID.byteCount), Self.transient)
        }
        return self
    }

    /// The id in column `c`, or nil when it is not 32 bytes.
    func id(_ c: Int32) -> ChunkID? { id(c, as: ChunkID.self) }

    /// A 32-byte name of another kind (a pack's) in column `c`.
    func id<ID: SHA256Name>(_ c: Int32, as kind: ID.Type) -> ID? {
        guard sqlite3_column_bytes(stmt, c) == 32, let p = sqlite3_column_blob(stmt, c) else { return nil }
        return ID(raw: UnsafeRawBufferPointer(start: p, count: 32))
    }

    /// Steps once; true when a row is available.
    func step() throws -> Bool {
        let rc = sqlite3_step(stmt)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw db.error(rc)
    }

    func run() throws { while try step() {} }

    func int(_ c: Int32) -> Int64 { sqlite3_column_int64(stmt, c) }
    func text(_ c: Int32) -> String { sqlite3_column_text(stmt, c).map { String(cString: $0) } ?? "" }
    func blob(_ c: Int32) -> [UInt8] {
        let n = Int(sqlite3_column_bytes(stmt, c))
        guard n > 0, let p = sqlite3_column_blob(stmt, c) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }
    func isNull(_ c: Int32) -> Bool { sqlite3_column_type(stmt, c) == SQLITE_NULL }
}
