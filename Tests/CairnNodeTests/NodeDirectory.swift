import CairnTestSupport
import Foundation

/// A generated CometBFT-style node home: LevelDB-like databases (immutable
/// `.ldb` tables, a MANIFEST rewritten on compaction, an appended LOG), the
/// consensus WAL, the signing state and keys. `advanceDay()` does what a day of
/// block production does to it.
struct NodeDirectory {
    let root: URL
    private var rng: SplitMix64
    private var nextTable = 1
    private(set) var height: Int64 = 1000
    let databases = ["blockstore.db", "state.db", "application.db"]
    /// Bytes of the tables added by the last `advanceDay()`.
    private(set) var newTableBytes = 0

    init(root: URL, seed: UInt64) { self.root = root; rng = SplitMix64(seed: seed) }

    var data: URL { root.appendingPathComponent("data") }

    private mutating func random(_ n: Int) -> Data {
        var d = Data(count: n)
        d.withUnsafeMutableBytes { b in
            var i = 0
            while i + 8 <= n { b.storeBytes(of: rng.next(), toByteOffset: i, as: UInt64.self); i += 8 }
            while i < n { b[i] = UInt8(truncatingIfNeeded: rng.next()); i += 1 }
        }
        return d
    }

    private func write(_ d: Data, _ rel: String) throws {
        let u = root.appendingPathComponent(rel)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try d.write(to: u)
    }

    private func append(_ text: String, _ rel: String) throws {
        let u = root.appendingPathComponent(rel)
        let h = try FileHandle(forWritingTo: u)
        try h.seekToEnd(); try h.write(contentsOf: Data(text.utf8)); try h.close()
    }

    private mutating func table(_ db: String, size: Int) throws {
        try write(random(size), "data/\(db)/\(String(format: "%06d", nextTable)).ldb")
        nextTable += 1
    }

    private func signingState() -> Data {
        Data("{\n  \"height\": \"\(height)\",\n  \"round\": 0,\n  \"step\": 3,\n  \"signature\": \"c2lnbmF0dXJl\",\n  \"signbytes\": \"AB12\"\n}\n".utf8)
    }

    /// Day 0: `tables` tables of ~`tableSize` bytes per database.
    mutating func create(tables: Int, tableSize: Int) throws {
        for db in databases {
            for _ in 0..<tables { try table(db, size: tableSize + Int(rng.next() % 4096)) }
            try write(Data("MANIFEST-000001\n".utf8), "data/\(db)/CURRENT")
            try write(random(2000), "data/\(db)/MANIFEST-000001")
            try write(Data("2026/01/01-00:00:00 opened\n".utf8), "data/\(db)/LOG")
            try write(Data(), "data/\(db)/LOCK")
        }
        try write(random(50_000), "data/cs.wal/wal")
        try write(signingState(), "data/priv_validator_state.json")
        try write(Data("{\"address\":\"A1\",\"pub_key\":{},\"priv_key\":{}}\n".utf8), "config/priv_validator_key.json")
        try write(Data("{\"priv_key\":{}}\n".utf8), "config/node_key.json")
        try write(Data("# config\nmoniker = \"node\"\n".utf8), "config/config.toml")
        try write(random(30_000), "config/genesis.json")
    }

    /// One day: new tables per database, two compacted away, MANIFEST rewritten, LOG and WAL appended, height advanced.
    mutating func advanceDay(newTables: Int, tableSize: Int) throws {
        newTableBytes = 0
        for db in databases {
            let dir = data.appendingPathComponent(db)
            let before = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
            for _ in 0..<newTables { try table(db, size: tableSize + Int(rng.next() % 4096)) }
            let after = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            for f in after where !before.contains(f) {
                newTableBytes += (try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(f).path)[.size] as? Int) ?? 0
            }
            for f in before.filter({ $0.hasSuffix(".ldb") }).sorted().prefix(2) {
                try FileManager.default.removeItem(at: dir.appendingPathComponent(f))
            }
            try write(random(2000 + Int(rng.next() % 500)), "data/\(db)/MANIFEST-000001")
            try append("2026/01/02-00:00:00 compacted\n", "data/\(db)/LOG")
        }
        try append(String(repeating: "w", count: 20_000), "data/cs.wal/wal")
        height += 14_400
        try write(signingState(), "data/priv_validator_state.json")
    }
}
