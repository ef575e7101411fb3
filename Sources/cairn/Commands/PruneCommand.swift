import ArgumentParser
import CairnEngine
import CairnRepository
import Foundation

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Delete data no snapshot uses (mark and sweep, under an exclusive lock).")

    @OptionGroup var options: RepositoryOptions
    @OptionGroup var prune: PruneArguments
    @OptionGroup var lockOptions: LockOptions

    @Flag(help: "Only report what would be deleted and repacked.")
    var dryRun = false

    func run() async throws {
        if dryRun {
            // A dry run changes nothing and takes no lock.
            let repo = try await options.open()
            report(try await prune.pruner(repo: repo, dryRun: true, lock: nil).run(), json: options.json)
            return
        }
        let (repo, lock) = try await options.openLocked(exclusive: true, operation: "prune", wait: lockOptions.seconds,
                                                        releaseReserve: prune.deletesOnly)
        let result = try await lock.holding {
            try await prune.pruner(repo: repo, dryRun: false, lock: lock).run()
        }
        options.restoreSpaceReserve()
        report(result, json: options.json)
    }
}

/// Options shared by `prune` and `forget --prune`.
struct PruneArguments: ParsableArguments {
    @Option(help: "Unused data allowed to stay in partly used packs: a share (5%), a size (200M) or unlimited.")
    var maxUnused = "5%"

    @Option(help: "Repack at most this many bytes of packs (e.g. 2G); 0 only deletes (works on a full disk).")
    var maxRepack: String?

    @Flag(help: "Also combine packs under 4/5 of the pack size (by default only those under 1/25 of it are: the tiny packs each wal-push leaves), once there are 10 or more.")
    var repackSmall = false

    /// `--max-repack 0`: nothing is written but a lock and an index (the full-disk way out).
    var deletesOnly: Bool { maxRepack.flatMap(PruneOptions.parseSize) == 0 }

    func validate() throws {
        guard PruneOptions.parseMaxUnused(maxUnused) != nil else { throw ValidationError("--max-unused must be like 5%, 200M or unlimited") }
        if let maxRepack, PruneOptions.parseSize(maxRepack) == nil { throw ValidationError("--max-repack must be a size like 0, 500M or 2G") }
    }

    func pruner(repo: Repository, dryRun: Bool, lock: RepositoryLock?) -> Pruner {
        var o = PruneOptions()
        o.maxUnused = PruneOptions.parseMaxUnused(maxUnused) ?? .percent(5)
        o.maxRepackBytes = maxRepack.flatMap(PruneOptions.parseSize)
        o.repackSmall = repackSmall
        o.dryRun = dryRun
        let p = Pruner(repo: repo, options: o)
        if let lock { p.commitCheck = { try await lock.ensureValid() } }
        return p
    }
}

func report(_ r: PruneResult, json: Bool) {
    if json { Terminal.json(r); return }
    let b = Terminal.bytes
    let verb = r.dryRun ? "would " : ""
    Terminal.out("\(r.snapshots) snapshots; \(r.packs) packs, \(b(r.packBytes)); used \(r.usedBlobs) blobs (\(b(r.usedBytes))), unused \(r.unusedBlobs) blobs (\(b(r.unusedBytes)))")
    Terminal.out("\(verb)delete \(r.packsDeleted) packs (\(b(r.bytesDeleted)))" + (r.unindexedPacksDeleted > 0 ? ", \(r.unindexedPacksDeleted) of them named by no index" : ""))
    Terminal.out("\(verb)repack \(r.packsRepacked) packs (\(b(r.bytesRepacked)), \(r.blobsRepacked) blobs kept)" + (r.dryRun ? "" : " into \(r.packsWritten) new packs (\(b(r.bytesWritten)))"))
    if r.replayedSnapshotsRemoved > 0 {
        Terminal.out("\(verb)remove \(r.replayedSnapshotsRemoved) snapshot(s) that 'forget' had removed and that were put back into the store (replayed)")
    }
    if r.smallPacksRepacked > 0 { Terminal.out("  \(r.smallPacksRepacked) of them small packs combined into full ones") }
    if r.packsRepackedForDeltas > 0 { Terminal.out("  \(r.packsRepackedForDeltas) of them only to drop unused delta blobs whose base goes") }
    if r.deltaBasesKept > 0 { Terminal.out("\(verb)keep \(r.deltaBasesKept) unused blobs that delta blobs in packs staying need as their base (no repack budget left)") }
    if r.undecodableBlobsKept > 0 {
        Terminal.warn("\(r.undecodableBlobsKept) delta blobs whose base is stored nowhere stay in packs that could not be repacked (no repack budget left): they are never reused; run 'cairn repair' to drop them")
    }
    if r.missingPacksDropped > 0 { Terminal.out("\(verb)drop \(r.missingPacksDropped) missing packs that held only unused blobs from the index") }
    if r.lockedObjectsKept > 0, let first = r.lockedUntilEarliest, let last = r.lockedUntilLatest {
        Terminal.out("\(r.lockedObjectsKept) object(s) \(r.dryRun ? "would stay" : "stay"), still locked (S3 Object Lock): deletable \(first == last ? "on \(first)" : "from \(first) to \(last)"); a later prune deletes them")
    }
    Terminal.out("unused data left in partly used packs: \(b(r.unusedBytesKept))")
    if !r.indexRewritten {
        Terminal.out("nothing to do")
    } else {
        Terminal.out("\(r.dryRun ? "would free about" : "freed") \(b(r.bytesFreed)); \(b(r.storedBytesAfter)) stored" + (r.dryRun ? "" : "; index rewritten (\(r.indexObjects) objects → \(r.indexObjectsWritten))"))
    }
}
