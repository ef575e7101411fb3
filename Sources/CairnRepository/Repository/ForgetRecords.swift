import CairnCrypto
import CairnFormat
import CairnStorage
#if canImport(Glibc)
import Glibc
#endif

/// Writing and reading the store's forget records (format-spec §20).
package enum ForgetRecords {
    /// Records that snapshots `ids` are being removed; stored before their objects are deleted.
    package static func write(_ repo: Repository, ids: [String], nowNanos: Int64 = Clock.nowNanos()) async throws {
        let snapshotIDs = ids.compactMap { SnapshotID(hex: $0) }
        var start = 0
        while start < snapshotIDs.count {
            let part = Array(snapshotIDs[start..<min(start + ForgetRecord.maximumIDs, snapshotIDs.count)])
            start += part.count
            let sealed = try repo.keys.sealObject(.forgetRecord, ForgetRecord(timeNanos: nowNanos, snapshots: part).encoded())
            let name = Hex.encode(SHA256.hash(sealed))
            try await repo.store.put(ObjectKey(.forgotten, name), sealed)
            try repo.index.addForgetRecord(name, ForgetRecord(timeNanos: nowNanos, snapshots: part), size: sealed.count)
        }
    }

    /// Reads one record, verified: its bytes hash to its name and it opens
    /// with the master key. A record (envelope version 1) names snapshots
    /// removed at one time; a merged record (version 2, format-spec v2.md)
    /// gives each its own time.
    package static func read(_ repo: Repository, _ key: ObjectKey) async throws -> [ForgetRecordSet.Entry] {
        let bytes = try await MetadataObjects.readVerified(repo.store, key)
        return try decode(repo, bytes)
    }

    package static func decode(_ repo: Repository, _ bytes: [UInt8]) throws -> [ForgetRecordSet.Entry] {
        let (version, plain) = try repo.keys.openObjectVersioned(.forgetRecord, bytes)
        if version == 1 {
            let r = try ForgetRecord.decode(plain)
            return r.snapshots.map { ForgetRecordSet.Entry(id: $0, timeNanos: r.timeNanos) }
        }
        return try ForgetRecordSet.decode(plain).entries
    }

    /// What the store's records say (for prune and scrub, which trust the store only):
    /// forgotten snapshot id → when; and the records that could not be read.
    package static func load(_ repo: Repository) async throws -> (forgotten: [String: Int64], names: [String], unreadable: [(name: String, problem: String)]) {
        var forgotten: [String: Int64] = [:]
        var names: [String] = [], unreadable: [(String, String)] = []
        for key in try await repo.store.list(.forgotten).sorted(by: { $0.name < $1.name }) {
            do {
                let entries = try await read(repo, key)
                names.append(key.name)
                for e in entries { forgotten[e.id.hex] = max(forgotten[e.id.hex] ?? .min, e.timeNanos) }
            } catch StorageError.notFound {
                continue
            } catch {
                unreadable.append((key.name, describe(error)))
            }
        }
        return (forgotten, names, unreadable)
    }

    /// How a snapshot that is forgotten but back in the store is reported.
    package static func replayed(_ id: String, forgottenAt: Int64) -> String {
        "snapshot \(id.prefix(8)) was removed by 'cairn forget' (\(utc(forgottenAt))) but is in the store again: put back by someone who can write to the store (a replay), or restored from an old copy of it; it is ignored, and 'cairn prune' removes it"
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`.
    package static func utc(_ nanos: Int64) -> String {
        var t = time_t(nanos / 1_000_000_000)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
