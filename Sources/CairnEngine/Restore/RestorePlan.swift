import CairnFormat
import CairnRepository
import CairnIndex

/// The content of a part of a tree restore, planned pack by pack (as
/// restic's restorer does): the walk adds each file's chunk ids in content
/// order; `prepared` then groups the blobs by pack, each blob once with every
/// (file, offset) that needs it, and each pack's needed blobs into one span
/// read from the first to the last (split only at a long gap or past
/// `spanLimit`). A pack shared by many files is so read once, in one request
/// on a remote store, instead of once per file window.
///
/// Bounded by `Limits`: the walk starts a plan when one is full, so a restore
/// of any size holds a few plans at a time, never the whole tree's.
struct RestorePlan {
    /// When a plan is full.
    struct Limits: Sendable {
        /// Chunks (references, repeats counted) in one plan.
        var blobs = 32_768
        /// Files with content in one plan (each may be open until its last blob is written).
        var files = 2048
        /// Directories the files of one plan are in (each held open until they are written).
        var directories = 256
        init() {}
        init(blobs: Int, files: Int, directories: Int) {
            self.blobs = max(1, blobs); self.files = max(1, files); self.directories = max(1, directories)
        }
    }

    /// Chunk ids of one file, in content order, going where the file's previous run ended.
    struct Run {
        let file: RestoringFile
        let ids: [ChunkID]
    }

    var runs: [Run] = []
    /// Every file with a run here or whose content ended here (closed when the plan is done, if not before).
    var files: [RestoringFile] = []
    var blobs = 0
    var directories: Set<Int> = []

    var isEmpty: Bool { files.isEmpty }

    /// `limits` made to fit `openFiles` descriptors (the process's limit):
    /// each plan in flight, and the one being filled, may hold its files and
    /// directories open, beside the walk's own `walkDescriptors`.
    static func fitted(_ limits: Limits, openFiles: Int, plans: Int, walkDescriptors: Int) -> Limits {
        guard openFiles > 0 else { return limits }
        let perPlan = max(8, (openFiles - walkDescriptors - 64) / (max(1, plans) + 1))
        guard limits.files + limits.directories > perPlan else { return limits }
        return Limits(blobs: limits.blobs, files: perPlan * 3 / 4, directories: perPlan / 4)
    }

    func isFull(_ limits: Limits) -> Bool {
        blobs >= limits.blobs || files.count >= limits.files || directories.count >= limits.directories
    }

    /// Adds `file` (once per plan).
    mutating func add(_ file: RestoringFile) {
        if files.last !== file { files.append(file) }
        directories.insert(file.job.directoryID)
    }

    /// Where one blob goes.
    struct Target: Sendable {
        let file: RestoringFile
        let offset: UInt64
    }

    /// A blob opened once and written to every target.
    struct Blob: Sendable {
        let read: BlobRead
        /// Its offset in the span's bytes.
        var at = 0
        var targets: [Target]
    }

    /// A range of one pack read at once, and the blobs in it, in offset order.
    struct Span: Sendable {
        let pack: PackID
        var start: UInt64
        var length: Int
        var blobs: [Blob]
    }

    /// Bytes between two needed blobs of a pack read through rather than
    /// split into two reads (a request costs more than this many bytes), and
    /// the most one read takes.
    static let spanGap: UInt64 = 4 << 20
    static let spanLimit: UInt64 = 32 << 20

    /// The blobs of `located` (per run, in the order of its ids: the
    /// located reads, or why the run cannot be read) as spans, in the order
    /// their packs are first needed. Offsets are assigned to each file in
    /// content order; a blob past the file's recorded size fails the file
    /// before anything is written. Blobs of failed runs and files are
    /// released from their files (`RestoringFile.release`); the files that
    /// must be closed because of it are returned.
    static func spans(_ runs: [Run], located: [Swift.Result<[BlobRead], CairnError>],
                      failure: (RestoringFile, any Error) -> CairnError) -> (spans: [Span], close: [RestoringFile]) {
        var blobs: [Blob] = []
        var slot: [ChunkID: Int] = [:]
        var close: [RestoringFile] = []
        for (run, result) in zip(runs, located) {
            let file = run.file
            let reads: [BlobRead]
            switch result {
            case .success(let r): reads = r
            case .failure(let e):
                file.fail(failure(file, e))
                if file.release(run.ids.count) { close.append(file) }
                continue
            }
            let offsets = file.offsets(reads.map(\.location.rawLength))
            var dropped = 0
            for (read, offset) in zip(reads, offsets) {
                guard file.error == nil else { dropped += 1; continue }
                guard offset + UInt64(read.location.rawLength) <= file.job.node.size else {
                    file.fail(failure(file, CairnError.other(Restorer.overlong(file.job.node))))
                    dropped += 1
                    continue
                }
                if let k = slot[read.id] {
                    blobs[k].targets.append(Target(file: file, offset: offset))
                } else {
                    slot[read.id] = blobs.count
                    blobs.append(Blob(read: read, targets: [Target(file: file, offset: offset)]))
                }
            }
            if dropped > 0, file.release(dropped) { close.append(file) }
        }
        // By pack, in the order each pack is first needed; in a pack by offset.
        var packOrder: [PackID: Int] = [:]
        var byPack: [[Int]] = []
        for (k, b) in blobs.enumerated() {
            let pack = b.read.location.pack
            if let p = packOrder[pack] { byPack[p].append(k) } else {
                packOrder[pack] = byPack.count
                byPack.append([k])
            }
        }
        var spans: [Span] = []
        for members in byPack {
            let sorted = members.sorted { blobs[$0].read.location.offset < blobs[$1].read.location.offset }
            // The span being extended is the last of `spans`, changed in place: a copy of it taken
            // out and put back would copy its blob list on every append (quadratic in blobs per span).
            var open = false
            for k in sorted {
                var blob = blobs[k]
                let loc = blob.read.location
                let end = loc.offset + UInt64(loc.length)
                if open, let last = spans.indices.last {
                    let sStart = spans[last].start, sEnd = sStart + UInt64(spans[last].length)
                    if loc.offset <= sEnd + spanGap, max(end, sEnd) - sStart <= spanLimit {
                        spans[last].length = Int(max(end, sEnd) - sStart)
                        blob.at = Int(loc.offset - sStart)
                        spans[last].blobs.append(blob)
                        continue
                    }
                }
                blob.at = 0
                spans.append(Span(pack: loc.pack, start: loc.offset, length: Int(loc.length), blobs: [blob]))
                open = true
            }
        }
        return (spans, close)
    }
}
