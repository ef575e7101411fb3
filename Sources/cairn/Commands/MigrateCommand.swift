import ArgumentParser
import CairnEngine
import CairnFormat
import Foundation

/// `cairn migrate`: a repository of format 1 becomes one of format 2
/// (format-spec v2.md), in place and crash-safe; run again, it finishes.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Convert the repository to the newest format (snapshot catalogues, merged metadata), in place.",
        discussion: """
            Takes the exclusive lock. Stop every Cairn that predates format 2 first: from the moment the new config is \
            written, they refuse the repository ("written by a newer Cairn"). Killed at any moment, the repository opens \
            and restores everything, and running migrate again finishes. On a repository of format 2 it merges what \
            has accumulated (loose snapshots, index objects, forget records). --json prints one JSON document:             from_version, to_version, catalogues_written, snapshots_catalogued, single_snapshots_deleted,             index_objects_merged, snapshot_objects_merged, forget_records_merged.
            """)

    @OptionGroup var options: RepositoryOptions
    @OptionGroup var lockOptions: LockOptions

    func run() async throws {
        let (repo, lock) = try await options.openLocked(exclusive: true, operation: "migrate", wait: lockOptions.seconds)
        let result = try await lock.holding(compact: false) {
            try await RepositoryMigration(repo: repo, commitCheck: { try await lock.ensureValid() }).run()
        }
        if options.json { Terminal.json(result); return }
        if result.fromVersion < result.toVersion {
            Terminal.out("repository format \(result.fromVersion) → \(result.toVersion): \(result.snapshotsCatalogued) snapshot(s) in \(result.cataloguesWritten) catalogue(s)")
        } else {
            Terminal.out("repository format \(result.toVersion) (the newest): \(result.snapshotsCatalogued) loose snapshot(s) catalogued")
        }
        Terminal.out("merged: \(result.indexObjectsMerged) index object(s), \(result.snapshotObjectsMerged) snapshot object(s), \(result.forgetRecordsMerged) forget record(s); \(result.singlesDeleted) single snapshot object(s) deleted")
    }
}
