import CairnFormat
import CairnIndex
import CairnRepository
import CairnStorage

/// `cairn migrate`: converts a repository of format 1 to format 2
/// (format-spec v2.md) in place, under the exclusive lock. Crash-safe at
/// every instant, and a rerun finishes what a stopped one began:
///
/// 1. every single snapshot is copied into catalogues (written in full; the
///    singles stay, so a reader of format 1 still finds every snapshot, and a
///    prune of format 1 stops at the catalogues instead of deleting data);
/// 2. `config` is written again with envelope version 2: from here readers of
///    format 1 refuse the repository ("written by a newer Cairn");
/// 3. the singles now held by catalogues are deleted, forget records merged
///    and small index objects merged (`MetadataCompactor`, until nothing is left to merge).
///
/// Killed before 2, the repository is of format 1 with catalogues beside its
/// snapshots (Cairn of format 2 reads both; one of format 1 warns about the
/// catalogues and its prune stops); killed after, of format 2 with
/// duplicates. Nothing is lost either way, and `migrate` again finishes.
public struct RepositoryMigration: Sendable {
    let repo: Repository
    /// The lock check before each step that changes the store.
    let commitCheck: @Sendable () async throws -> Void

    public init(repo: Repository, commitCheck: @escaping @Sendable () async throws -> Void = {}) {
        self.repo = repo; self.commitCheck = commitCheck
    }

    public struct Result: Sendable, Encodable {
        public var fromVersion: Int = 0
        public var toVersion: Int = 0
        /// Catalogues written by step 1.
        public var cataloguesWritten = 0
        /// Single snapshots copied into them.
        public var snapshotsCatalogued = 0
        /// Single snapshot objects deleted once a catalogue held them.
        public var singlesDeleted = 0
        public var indexObjectsMerged = 0
        public var forgetRecordsMerged = 0
        /// Snapshot objects merged by the final compaction.
        public var snapshotObjectsMerged = 0

        enum CodingKeys: String, CodingKey {
            case fromVersion = "from_version", toVersion = "to_version", cataloguesWritten = "catalogues_written"
            case snapshotsCatalogued = "snapshots_catalogued", singlesDeleted = "single_snapshots_deleted"
            case indexObjectsMerged = "index_objects_merged", forgetRecordsMerged = "forget_records_merged"
            case snapshotObjectsMerged = "snapshot_objects_merged"
        }
    }

    public func run() async throws -> Result {
        var result = Result()
        try await repo.checkMayDelete(.snapshots, before: "migrate")
        try await repo.sync()
        result.fromVersion = Int(repo.formatVersion)
        // 1. Every single snapshot into catalogues, stored before anything else changes.
        let singles = try repo.index.snapshotObjects().filter { $0.kind == .single }
        var batch: [SnapshotRow] = [], batchBytes = 0
        var catalogued: [String] = []
        func flush() async throws {
            guard !batch.isEmpty else { return }
            try await commitCheck()
            let catalogue = SnapshotCatalogue(entries: batch.compactMap { r in SnapshotID(hex: r.id).map { .init(id: $0, plaintext: r.plaintext) } })
            _ = try await repo.saveCatalogue(catalogue, rows: batch)
            result.cataloguesWritten += 1
            result.snapshotsCatalogued += catalogue.entries.count
            batch = []; batchBytes = 0
        }
        // A single a catalogue already holds (a migration stopped after step 1) is not copied again.
        let holders = try repo.index.snapshotObjects(holding: singles.map(\.name))
        let kinds = Dictionary(try repo.index.snapshotObjects().map { ($0.name, $0.kind) }, uniquingKeysWith: { a, _ in a })
        let inCatalogues = Set(holders.filter { kinds[$0.key] == .catalogue }.values.joined())
        for object in singles {
            if inCatalogues.contains(object.name) { catalogued.append(object.name); continue }
            for row in try repo.index.snapshotRows(inObject: object.name) {
                if batch.count >= SnapshotCatalogue.maximumEntries || batchBytes + row.plaintext.count + 40 > MetadataCompactor.Policy.snapshots.capBytes {
                    try await flush()
                }
                batch.append(row); batchBytes += row.plaintext.count + 40
            }
            catalogued.append(object.name)
        }
        try await flush()
        // 2. The config, with envelope version 2: the one step that makes this a format-2 repository.
        if repo.formatVersion < 2 {
            try await commitCheck()
            try await repo.store.put(.config, try repo.keys.sealObject(.config, repo.config.encoded(), version: 2))
            repo.setFormatVersion(2)
        }
        result.toVersion = Int(repo.formatVersion)
        // 3. What the catalogues hold goes from its single objects; then the merges.
        try await commitCheck()
        for name in catalogued {
            try await repo.store.delete(ObjectKey(.snapshots, name))
            result.singlesDeleted += 1
        }
        try repo.index.removeSnapshotObjects(catalogued)
        let compactor = MetadataCompactor(repo: repo)
        for _ in 0..<10_000 {
            try await commitCheck()
            let merged = try await compactor.run()
            result.indexObjectsMerged += merged.indexObjectsMerged
            result.forgetRecordsMerged += merged.forgetRecordsMerged
            result.snapshotObjectsMerged += merged.snapshotObjectsMerged
            if merged == MetadataCompactor.Outcome() { break }
        }
        return result
    }
}
