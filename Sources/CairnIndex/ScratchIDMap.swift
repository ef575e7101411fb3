import CairnFormat
import Synchronization

/// A set of blob ids, each optionally mapped to another id, for one command
/// (the trees and lists a copy has walked, and what each tree became): a
/// private temporary SQLite database that spills to disk past its page cache,
/// so memory does not grow with how many trees a repository has. Deleted
/// when closed (or when the process ends).
public final class ScratchIDMap: Sendable {
    private let database: Mutex<SQLiteDatabase>

    public init() throws {
        // An empty name: SQLite's private temporary database, on disk once it outgrows its cache.
        let db = try SQLiteDatabase(path: "")
        try db.execute("""
            PRAGMA journal_mode=OFF;
            PRAGMA synchronous=OFF;
            PRAGMA cache_size=-8192;
            CREATE TABLE ids(id BLOB PRIMARY KEY, value BLOB) WITHOUT ROWID;
            """)
        database = Mutex(db)
    }

    private func with<R>(_ body: (SQLiteDatabase) throws -> R) throws -> R { try database.withLock { try body($0) } }

    /// Adds `id`; true when it was not there.
    public func insert(_ id: ChunkID) throws -> Bool {
        try with { db in
            try db.statement("INSERT OR IGNORE INTO ids(id) VALUES(?)").bind(1, id: id).run()
            return sqlite3Changes(db) > 0
        }
    }

    public func contains(_ id: ChunkID) throws -> Bool {
        try with { db in
            let s = try db.statement("SELECT 1 FROM ids WHERE id=?").bind(1, id: id)
            defer { s.reset() }
            return try s.step()
        }
    }

    /// The id `id` maps to, if any.
    public func value(_ id: ChunkID) throws -> ChunkID? {
        try with { db in
            let s = try db.statement("SELECT value FROM ids WHERE id=? AND value IS NOT NULL").bind(1, id: id)
            defer { s.reset() }
            return try s.step() ? s.id(0) : nil
        }
    }

    public func set(_ id: ChunkID, _ value: ChunkID) throws {
        try with { db in try db.statement("INSERT OR REPLACE INTO ids(id, value) VALUES(?, ?)").bind(1, id: id).bind(2, value.bytes).run() }
    }
}

import CSQLite3
private func sqlite3Changes(_ d: SQLiteDatabase) -> Int32 { sqlite3_changes(d.handle) }
