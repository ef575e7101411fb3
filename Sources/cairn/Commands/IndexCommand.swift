import ArgumentParser
import CairnEngine
import CairnRepository
import CairnOps

struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "index", abstract: "Maintain the local index.", subcommands: [Rebuild.self])

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recreate the local index from the store alone (pack headers and snapshots).")
        @OptionGroup var options: RepositoryOptions

        @Flag(help: "Ignore the store's index objects and read every pack header (after both the cache and the index objects are lost).")
        var readPacks = false

        @OptionGroup var lockOptions: LockOptions

        func run() async throws {
            // Shared: it may write an index delta naming packs, which a prune must not race. Not
            // synced on open: the rebuild empties the cache and loads the store's index once.
            let (repo, lock) = try await options.openLocked(exclusive: false, operation: "index rebuild", wait: lockOptions.seconds,
                                                            syncing: false)
            try await lock.holding { try await rebuild(repo) }
        }

        func rebuild(_ repo: Repository) async throws {
            let rebuilder = IndexRebuilder(repo: repo, readAllPacks: readPacks)
            let r = try await rebuilder.rebuild()
            for d in r.damagedPacks { Terminal.warn("unreadable pack \(d)") }
            for d in r.damagedIndexObjects { Terminal.warn("unreadable index object \(d)" + (r.removedIndexObjects.isEmpty ? "" : ": removed, every pack is named by a readable one")) }
            if options.json {
                Terminal.json(RebuildJSON(packs: r.packs, blobs: r.blobs, snapshots: r.snapshots, reindexed_packs: r.reindexedPacks, damaged_packs: r.damagedPacks,
                                          removed_index_objects: r.removedIndexObjects))
            } else {
                Terminal.out("index rebuilt: \(r.packs) packs (\(r.headersRead) headers read), \(r.blobs) blobs, \(r.snapshots) snapshots; \(r.reindexedPacks) packs newly indexed")
            }
            if !r.damagedPacks.isEmpty {
                throw CommandFailure.failed("\(r.damagedPacks.count) pack(s) could not be read and are not in the index: run 'cairn scrub' to see which snapshots they affect")
            }
        }
    }
}

struct RebuildJSON: Encodable { let packs: Int, blobs: Int, snapshots: Int, reindexed_packs: Int, damaged_packs: [String], removed_index_objects: [String] }
