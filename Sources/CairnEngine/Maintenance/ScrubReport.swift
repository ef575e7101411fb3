import CairnFormat

/// What to check and how much data to read.
public struct ScrubOptions: Sendable {
    /// Which packs `--read-data` reads.
    public enum Subset: Sendable, Equatable {
        /// All packs.
        case all
        /// The n-th (1-based) of t fixed slices, by pack id: t nightly runs cover everything.
        case slice(Int, Int)
        /// A random share of the packs, 0...1.
        case fraction(Double)
    }

    public var readData = false
    public var subset: Subset = .all
    /// Stop reading packs after this many seconds (the structural check always completes).
    public var maxDurationSeconds: Double? = nil
    /// Skip packs verified less than this many seconds ago (from the cache's record).
    public var maxAgeSeconds: Double? = nil

    public init() {}

    /// Parses `n/t` or `x%`.
    public static func parseSubset(_ s: String) -> Subset? {
        if s.hasSuffix("%"), let p = Double(s.dropLast()), p > 0, p <= 100 { return .fraction(p / 100) }
        let parts = s.split(separator: "/")
        if parts.count == 2, let n = Int(parts[0]), let t = Int(parts[1]), t >= 1, (1...t).contains(n) { return .slice(n, t) }
        return nil
    }

    /// Whether `pack` falls in the n-th of t slices: the first four bytes of its id modulo t.
    static func inSlice(_ pack: PackID, _ n: Int, _ t: Int) -> Bool {
        Int(pack.w0 >> 32) % t == n - 1
    }
}

/// The findings of a scrub, in terms a person acts on.
public struct ScrubReport: Sendable {
    /// An empty report (nothing checked yet, no damage).
    public init() {}

    /// One damaged or missing pack.
    public struct PackProblem: Sendable {
        public var pack: String
        public var problem: String
        /// Blobs of this pack that cannot be read (ids).
        public var blobs: [String]
    }

    /// One blob that is damaged, missing from its pack, or absent from the index.
    public struct BlobProblem: Sendable {
        public var blob: String
        public var type: String
        public var pack: String?
        public var problem: String
    }

    /// A snapshot path (and byte ranges of it) that a damaged blob breaks.
    public struct Affected: Sendable {
        public var snapshot: String
        public var name: String
        public var path: String
        /// Byte ranges [start, end) of the file that are lost; empty when the whole entry is lost (a tree).
        public var ranges: [ClosedRange<UInt64>]
        public var blobs: [String]
    }

    /// An object other than a pack that could not be read or parsed.
    public struct ObjectProblem: Sendable {
        public var object: String
        public var problem: String
    }

    public var snapshotsChecked = 0
    public var packsChecked = 0
    public var packsRead = 0
    public var packsSkippedRecent = 0
    public var blobsVerified = 0
    public var bytesVerified: UInt64 = 0
    /// False when --max-duration stopped the data read early.
    public var complete = true
    public var seconds = 0.0
    /// Bytes held for the index (the table's rows and directory, the damage trace's bit a
    /// tree): what bounds a scrub's memory by the repository's size (issue 16.3).
    public var indexMemoryBytes = 0
    /// Entries of the maps keyed by blob (damaged, missing or unindexed blobs, traced list
    /// blobs, trees not held as a bit) at the end, when they are largest: on a clean
    /// repository a few per list blob, never one per blob.
    public var blobEntriesHeld = 0

    public var objectProblems: [ObjectProblem] = []
    public var packProblems: [PackProblem] = []
    public var blobProblems: [BlobProblem] = []
    public var affected: [Affected] = []
    /// Damaged paths found beyond the listing limit, by snapshot id (a forged
    /// tree can reach one damaged blob under millions of paths).
    public var affectedNotListed: [String: UInt64] = [:]
    /// Packs in the store that no index object names: not damage (a killed backup leaves them).
    public var orphanPacks: [String] = []
    /// Index damage, not lost data: blobs snapshots use that no readable index object
    /// names but that a pack in the store holds (its header says so; `pack` names it).
    /// `cairn index rebuild --read-packs` recovers them.
    public var unindexedBlobs: [BlobProblem] = []
    /// A snapshot that `forget` removed (a forget record names it) but that is in the store again.
    public struct Replayed: Sendable {
        public var snapshot: String
        public var forgottenNanos: Int64
    }
    /// Snapshots put back after a forget removed them (a replay by someone who can write to
    /// the store, or a restore from an old copy): ignored by every command; prune removes them.
    public var replayedSnapshots: [Replayed] = []
    /// Snapshots that use an unindexed blob: restorable once the index is rebuilt.
    public var snapshotsNeedingIndexRebuild: Set<String> = []

    public var isClean: Bool {
        objectProblems.isEmpty && packProblems.isEmpty && blobProblems.isEmpty && affected.isEmpty && affectedNotListed.isEmpty && unindexedBlobs.isEmpty
            && replayedSnapshots.isEmpty
    }
    /// Snapshots that lost data (cannot be fully restored even with a rebuilt index).
    public var affectedSnapshots: Set<String> { Set(affected.map(\.snapshot)).union(affectedNotListed.keys) }
    /// The index objects themselves are damaged or do not name what the packs hold:
    /// `cairn index rebuild --read-packs` is the repair, and it loses nothing.
    public var indexDamaged: Bool {
        !unindexedBlobs.isEmpty || objectProblems.contains { $0.object.hasPrefix("index/") }
    }
    /// Data is lost or damaged (what `cairn repair` and `cairn repair snapshots` are for).
    public var dataDamaged: Bool { !packProblems.isEmpty || !blobProblems.isEmpty || !affected.isEmpty || !affectedNotListed.isEmpty }

    /// What to do, in one sentence (nil when clean). Index damage is repaired
    /// first: it loses nothing, and until it is done data damage cannot be told apart.
    public var advice: String? {
        if isClean { return nil }
        if indexDamaged {
            let what = unindexedBlobs.isEmpty
                ? "\(objectProblems.filter { $0.object.hasPrefix("index/") }.count) index object(s) cannot be read"
                : "the index objects do not name \(unindexedBlobs.count) blob(s) that \(snapshotsNeedingIndexRebuild.count) snapshot(s) use, but packs in the store hold every one of them"
            return "INDEX DAMAGE: \(what); no data is lost by that. Run 'cairn index rebuild --read-packs', then scrub again"
                + (dataDamaged ? " (it also found damaged data: repair that after the rebuild)" : "") + "; do not run 'cairn repair snapshots' before"
        }
        if !dataDamaged && !replayedSnapshots.isEmpty {
            return "REPLAYED SNAPSHOTS: \(replayedSnapshots.count) snapshot(s) that 'cairn forget' removed are in the store again (put back by someone who can write to the store, or restored from an old copy); every command ignores them and 'cairn prune' removes them"
        }
        if affectedSnapshots.isEmpty {
            return "DAMAGE FOUND in \(packProblems.count) pack(s) (\(blobProblems.count) blob(s)), but no snapshot uses what is lost: 'cairn repair' drops it from the index"
        }
        return "DAMAGE FOUND: \(affectedSnapshots.count) snapshot(s) affected; repair with 'cairn repair --from REPLICA' or 'cairn repair snapshots'"
    }
}
