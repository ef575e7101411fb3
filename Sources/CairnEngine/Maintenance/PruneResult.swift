/// What a prune found and did (or, with dry run, would do).
public struct PruneResult: Sendable, Codable {
    public var dryRun = false
    public var snapshots = 0
    public var indexObjects = 0
    public var packs = 0
    public var packBytes: UInt64 = 0
    public var usedBlobs = 0
    public var usedBytes: UInt64 = 0
    public var unusedBlobs = 0
    public var unusedBytes: UInt64 = 0
    /// Packs holding no used blob, deleted whole.
    public var packsDeleted = 0
    public var bytesDeleted: UInt64 = 0
    /// Packs in the store that no index object names (left by stopped backups or prunes); part of packsDeleted.
    public var unindexedPacksDeleted = 0
    /// Packs named by the index but missing from the store, holding only unused blobs: dropped from the index.
    public var missingPacksDropped = 0
    public var packsRepacked = 0
    public var bytesRepacked: UInt64 = 0
    public var blobsRepacked = 0
    public var packsWritten = 0
    public var bytesWritten: UInt64 = 0
    /// Unused bytes left in partly used packs that were not worth repacking.
    public var unusedBytesKept: UInt64 = 0
    /// Snapshots a forget had removed that were in the store again (replayed): removed again.
    public var replayedSnapshotsRemoved = 0
    /// Packs repacked only to drop delta blobs whose base was going (part of packsRepacked).
    public var packsRepackedForDeltas = 0
    /// Small packs combined into full ones (`PruneOptions.repackSmall`; part of packsRepacked).
    public var smallPacksRepacked = 0
    /// Unused whole blobs kept because a delta in a pack that stays needs them (no repack budget).
    public var deltaBasesKept = 0
    /// Delta blobs whose base is stored nowhere left in packs that stay (no repack budget):
    /// never reused, but scrub reports them and 'cairn repair' drops them.
    public var undecodableBlobsKept = 0
    /// Objects left in place because S3 Object Lock still protects them (Docs/immutability.md),
    /// and the first and last time one of them becomes deletable (RFC 3339).
    public var lockedObjectsKept = 0
    public var lockedUntilEarliest: String?
    public var lockedUntilLatest: String?
    public var bytesFreed: UInt64 = 0
    public var indexRewritten = false
    /// Index objects the rewritten index was written in (a part at a time, each under the size cap).
    public var indexObjectsWritten = 0
    public var storedBytesAfter: UInt64 = 0
    public var seconds = 0.0

    enum CodingKeys: String, CodingKey {
        case dryRun = "dry_run", snapshots, indexObjects = "index_objects", packs, packBytes = "pack_bytes"
        case usedBlobs = "used_blobs", usedBytes = "used_bytes", unusedBlobs = "unused_blobs", unusedBytes = "unused_bytes"
        case packsDeleted = "packs_deleted", bytesDeleted = "bytes_deleted", unindexedPacksDeleted = "unindexed_packs_deleted"
        case missingPacksDropped = "missing_packs_dropped", packsRepacked = "packs_repacked", bytesRepacked = "bytes_repacked"
        case blobsRepacked = "blobs_repacked", packsWritten = "packs_written", bytesWritten = "bytes_written"
        case unusedBytesKept = "unused_bytes_kept", packsRepackedForDeltas = "packs_repacked_for_deltas"
        case smallPacksRepacked = "small_packs_repacked"
        case replayedSnapshotsRemoved = "replayed_snapshots_removed"
        case lockedObjectsKept = "locked_objects_kept", lockedUntilEarliest = "locked_until_earliest", lockedUntilLatest = "locked_until_latest"
        case deltaBasesKept = "delta_bases_kept", undecodableBlobsKept = "undecodable_blobs_kept", bytesFreed = "bytes_freed", indexRewritten = "index_rewritten"
        case indexObjectsWritten = "index_objects_written"
        case storedBytesAfter = "stored_bytes_after", seconds
    }
}
