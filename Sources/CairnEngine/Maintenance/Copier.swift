import CairnCrypto
import CairnFormat
import CairnIndex
import CairnRepository
import CairnStorage

/// Copies snapshots from one repository into another, storing only the blobs
/// the destination lacks.
///
/// When both repositories cut chunks the same way (the destination was made
/// with `cairn init --copy-chunker-from`, so chunker seed and profiles match),
/// blobs are copied by id, as the source stores them: each is read from the
/// source (authenticated, decompressed, hash-checked), then its stored form
/// (compressed, or a delta against a base) is sealed under the destination's
/// keys, so the copy is as small as the source and nothing is compressed
/// again. Deltas go in a second pass, after the bases they name are stored.
/// Otherwise file content is re-chunked through the destination's chunker,
/// so later backups into the destination dedup against it; trees are rebuilt.
///
/// Resumable: the destination's index says what is already there, packs are
/// checkpointed as they are stored, and the snapshot is written last. A
/// snapshot already in the destination (same name, time, host and paths) is skipped.
public final class Copier: @unchecked Sendable {
    public let source: Repository
    public let destination: Repository
    /// Blobs read from the source at once.
    public var window = 32

    /// What one copy did.
    public struct Report: Sendable {
        public var copied: [(source: SnapshotID, destination: SnapshotID)] = []
        public var skipped: [SnapshotID] = []
        /// Snapshots already in the destination whose tags changed in the source since: retagged there (old id, new id).
        public var retagged: [SnapshotTagger.Rewrite] = []
        public var blobsCopied = 0
        public var blobsPresent = 0
        public var rechunked = false
        public var bytesAdded: UInt64 = 0
        /// Source packs stored in the destination as they are (the two share their master keys).
        public var packsCopiedWhole = 0
        /// Most blob ids held in memory at once (the batch being gathered, the destination's
        /// claims in flight, delta ids not yet in their scratch file): bounded by the batch,
        /// the packs in flight and `deltaIDsInMemory`, not by the snapshot (issue 16.3).
        public var mostBlobsHeld = 0
    }

    public let progress = CopyProgress()

    /// Trees and list blobs this run has copied (with everything below them),
    /// and the re-chunked tree made from each source tree: each is walked
    /// once however many paths and snapshots lead to it. Only within a run:
    /// what a killed earlier run left in the destination may lack its children.
    /// On disk past a few MiB (`ScratchIDMap`): a repository may have millions of trees.
    private let copiedTrees: ScratchIDMap
    private let copiedLists: ScratchIDMap
    private let rechunkedTrees: ScratchIDMap

    /// Delta ids of one snapshot held in memory before the rest go to a scratch file (32 B each).
    var deltaIDsInMemory = 1 << 16

    /// Source packs already considered for a whole copy (`Copier+WholePacks`): each is fetched once.
    var wholePacksTried = Set<PackID>()
    /// Whole packs between two stores on local disk, copied by the kernel and stored in batches (nil otherwise).
    var localPacks: LocalPackCopier?
    /// Whether `localPacks` writes whole blocks past the page cache (`LocalPackCopier.directWrites`).
    var localDirectWrites = true

    /// The profiles of source snapshots that do not record theirs (`UnrecordedProfile`: the source
    /// adapters declare them, CairnOps' `SourceRegistry.unrecordedProfiles`).
    let unrecordedProfiles: [UnrecordedProfile]

    public init(source: Repository, destination: Repository, unrecordedProfiles: [UnrecordedProfile] = []) throws {
        self.source = source; self.destination = destination; self.unrecordedProfiles = unrecordedProfiles
        copiedTrees = try ScratchIDMap(); copiedLists = try ScratchIDMap(); rechunkedTrees = try ScratchIDMap()
    }

    /// Packs uploading at once: whole packs copied to a store not on local disk are each one
    /// request that waits on the server, so more of them keep its connections busy (`aws s3
    /// sync` sends 10 at once); otherwise a backup's two.
    var uploadsInFlight: Int {
        copiesWholePacks && localPacks == nil ? Self.wholePackUploads : 2
    }
    static let wholePackUploads = 6

    /// True when the destination cuts chunks exactly as the source does.
    public var sameChunker: Bool {
        source.chunkerSeed == destination.chunkerSeed && source.config.profiles == destination.config.profiles
    }

    public func copy(_ snapshots: [SnapshotRecord]) async throws -> Report {
        var report = Report()
        report.rechunked = !sameChunker
        localPacks = copiesWholePacks ? LocalPackCopier(source: source.store, destination: destination.store) : nil
        localPacks?.directWrites = localDirectWrites
        let existing = try destination.snapshots()
        for record in snapshots.sorted(by: { $0.snapshot.timeNanos < $1.snapshot.timeNanos }) {
            let s = record.snapshot
            if let there = existing.first(where: { Self.sameOrigin($0.snapshot, s) }) {
                report.skipped.append(record.id)
                // Tags follow the source (`cairn tag` after an earlier copy).
                report.retagged += try await SnapshotTagger(repo: destination).retag([there], .init(set: s.tags))
                continue
            }
            var saver = BlobSaver(repo: destination, uploadsInFlight: uploadsInFlight)
            do {
                let root: ChunkID
                var newBytes: UInt64 = 0
                if sameChunker {
                    // The delta ids wait for the second pass in a list that spills to a scratch file
                    // (a dump of deltas may have hundreds of millions).
                    let deltas = ScratchIDList(directory: destination.cacheDirectory, memoryLimit: deltaIDsInMemory)
                    pending.removeAll(); pendingBytes = 0
                    try await copyTree(s.root, saver: saver, deltas: deltas, report: &report)
                    try await copyPending(saver: saver, report: &report)
                    root = s.root
                    if !deltas.isEmpty {
                        // Every base the deltas name is in a stored, indexed pack once this saver
                        // finishes; only then do the deltas go, so a copy killed at any instant never
                        // leaves a delta whose base the destination lacks.
                        try await localPacks?.drain(saver: saver)
                        try await saver.finish()
                        newBytes += saver.currentStats.newDataRawBytes
                        report.bytesAdded += saver.currentStats.packBytes
                        saver = BlobSaver(repo: destination, uploadsInFlight: uploadsInFlight)
                        try await copyDeltas(deltas, saver: saver, report: &report)
                    }
                } else {
                    root = try await rechunkTree(s.root, profile: profile(of: s), saver: saver, report: &report)
                }
                try await localPacks?.drain(saver: saver)
                try await saver.finish()
                var copy = s
                copy.root = root
                copy.newBytes = newBytes + saver.currentStats.newDataRawBytes
                let id = try await destination.commitSnapshot(copy)
                report.bytesAdded += saver.currentStats.packBytes
                report.copied.append((record.id, id))
            } catch {
                await localPacks?.abandon()
                await saver.abandon()
                throw error
            }
        }
        return report
    }

    /// Same backup: name, time, host and paths agree (the root differs when re-chunked).
    static func sameOrigin(_ a: Snapshot, _ b: Snapshot) -> Bool {
        a.name == b.name && a.timeNanos == b.timeNanos && a.host == b.host && a.paths == b.paths && a.sourceKind == b.sourceKind
    }

    /// The chunker profile a snapshot's content was cut with, for re-chunking (`UnrecordedProfile`).
    func profile(of s: Snapshot) -> String {
        UnrecordedProfile.profile(of: s, rules: unrecordedProfiles, in: destination.config)
    }

    // MARK: copy by id

    /// Copies tree `id` and everything below it, each tree and list blob once a run; a tree
    /// or list after what it names (`TreeWalker`, `ListExpander`: the walk prune and lock
    /// extension share).
    private func copyTree(_ id: ChunkID, saver: BlobSaver, deltas: ScratchIDList, report: inout Report) async throws {
        try await TreeWalker.walk(id, enter: { try copiedTrees.insert($0) }, load: { try await source.loadTree($0) }, visit: { _, node in
            if node.kind == .file { progress.addFile() }
            guard !node.content.ids.isEmpty else { return }
            try await ListExpander.expand(node.content, enter: { try copiedLists.insert($0) }, readList: {
                try await source.readBlob(.list, $0)
            }, leave: { listID in
                try await copyBlobs([listID], type: .list, saver: saver, deltas: deltas, report: &report)
            }, data: { ids in
                var i = 0
                while i < ids.count {
                    let part = Array(ids[i..<min(i + window, ids.count)])
                    try await copyBlobs(part, type: .data, saver: saver, deltas: deltas, report: &report)
                    i += part.count
                }
            })
        }, leave: { tree in
            try await copyBlobs([tree], type: .tree, saver: saver, deltas: deltas, report: &report)
        })
    }

    /// Notes the blobs the destination lacks for `copyPending`, which copies
    /// them as the source stores them (compressed or raw, re-sealed under the
    /// destination's keys: nothing is compressed again). A delta data blob is
    /// only noted in `deltas`, for `copyDeltas`; its base is copied with the
    /// whole blobs if the destination lacks it.
    private func copyBlobs(_ ids: [ChunkID], type: BlobType, saver: BlobSaver, deltas: ScratchIDList, report: inout Report) async throws {
        var missing: [ChunkID] = []
        for (id, claimed) in zip(ids, try saver.claim(ids, type: type)) {
            if claimed { missing.append(id) } else { report.blobsPresent += 1 }
        }
        guard !missing.isEmpty else { return }
        for (id, loc) in zip(missing, try await source.locate(missing, type: type)) {
            guard let base = loc.base else { pend(id, type, loc); continue }
            try deltas.append(id)
            if try saver.claim(base, type: .data) {
                pend(base, .data, try await source.deltaBaseLocation(base, forDelta: id, in: loc.pack, index: "of the source"))
            }
        }
        report.mostBlobsHeld = max(report.mostBlobsHeld, pending.count + saver.claimsHeld + deltas.inMemoryCount)
        if pending.count >= Self.batchBlobs || pendingBytes >= batchLimit { try await copyPending(saver: saver, report: &report) }
    }

    // MARK: batched reads

    /// Whole blobs the destination lacks, gathered across files and trees so
    /// that they are read a pack range at a time and opened and sealed again
    /// on every core (one small file after another would be one blob at a time).
    typealias PendingBlob = (id: ChunkID, type: BlobType, location: BlobLocation)
    private var pending: [PendingBlob] = []
    private var pendingBytes = 0
    /// A batch: this many blobs or `batchLimit` stored bytes, whichever comes first (bounds the
    /// memory of a copy). The limit starts small, so the first packs are stored soon (a copy
    /// killed early still leaves something a resumed one reuses), and doubles up to `batchBytes`.
    static let batchBlobs = 1024
    static let batchBytes = 16 << 20
    static let localWholeBatchBytes = 256 << 20
    private var batchLimit = 1 << 20
    /// Blobs of one pack read in one request when the gap between them is at most this, up to
    /// `runBytes` a request (several runs a batch keep every core busy).
    static let readGapBytes: UInt64 = 256 << 10
    static let runBytes: UInt64 = 1 << 20

    private func pend(_ id: ChunkID, _ type: BlobType, _ location: BlobLocation) {
        pending.append((id, type, location))
        pendingBytes += Int(location.length)
    }

    /// Reads, verifies and seals again what `pending` holds, a run of each
    /// pack per task, and adds it to the destination.
    private func copyPending(saver: BlobSaver, report: inout Report) async throws {
        guard !pending.isEmpty else { return }
        var batch = pending
        pending.removeAll(keepingCapacity: true); pendingBytes = 0
        // Whole packs between local stores cost no memory per blob: larger batches copy several packs at once.
        batchLimit = min(localPacks == nil ? Self.batchBytes : Self.localWholeBatchBytes, batchLimit * 2)
        if copiesWholePacks {
            batch = try await copyWholePacks(batch, saver: saver, report: &report)
            guard !batch.isEmpty else { return }
        }
        for blob in batch {
            if let why = source.codec.limits.violation(blob.type, rawLength: blob.location.rawLength, storedLength: UInt64(blob.location.length)) {
                throw CairnError.damagedBlob(blob: blob.id.hex, pack: blob.location.pack.hex, reason: why)
            }
        }
        // Neighbouring blobs of a pack in one read, as the repository's own reads group them.
        let runs = Repository.coalesce(batch.map { BlobRead(id: $0.id, location: $0.location) }, gap: Self.readGapBytes, limit: Self.runBytes)
        let source = self.source, destination = self.destination
        let workers = max(2, sysconfProcessors()) * 2
        var next = 0
        try await withThrowingTaskGroup(of: [(id: ChunkID, type: BlobType, sealed: [UInt8], chunk: [UInt8])].self) { group in
            func launch() {
                guard next < runs.count else { return }
                let run = runs[next]; next += 1
                group.addTask { [batch] in try await Self.reseal(run, of: batch, source: source, destination: destination) }
            }
            for _ in 0..<workers { launch() }
            while let done = try await group.next() {
                for b in done {
                    try await saver.add(sealed: b.sealed, type: b.type, id: b.id, rawLength: b.chunk.count)
                    if b.type == .tree { try destination.index.cacheTree(b.id, b.chunk) }
                    report.blobsCopied += 1
                    progress.add(bytes: b.chunk.count)
                }
                launch()
            }
        }
    }

    /// One run of `batch`'s blobs read from the source, each blob opened (proven good) by the
    /// repository's read path (`Repository.openBlob`, as `readStoredBlob` does) and sealed under
    /// the destination's keys in its stored encoding.
    private static func reseal(_ run: Repository.PackRun, of batch: [PendingBlob], source: Repository, destination: Repository) async throws -> [(id: ChunkID, type: BlobType, sealed: [UInt8], chunk: [UInt8])] {
        let bytes = try await Repository.read(run, from: source.store)
        let codec = source.codec
        return try run.members.map { m in
            let b = batch[m.item]
            let (chunk, encoded) = try source.openBlob(BlobRead(id: b.id, location: b.location), in: bytes, at: m.at) {
                try codec.openKeepingEncoding($0, type: b.type, id: b.id, rawLength: b.location.rawLength)
            }
            return (b.id, b.type, try destination.codec.sealEncoded(encoded, type: b.type, id: b.id, base: nil), chunk)
        }
    }

    /// The second pass: the delta blobs, `window` at a time. Each stays a
    /// delta when the destination stores its base whole, which it does unless
    /// it had that chunk already as a delta of its own; then the chunk is
    /// stored whole, so that no chain grows deeper than one level.
    private func copyDeltas(_ ids: ScratchIDList, saver: BlobSaver, report: inout Report) async throws {
        var i = 0
        while i < ids.count {
            let part = try ids.ids(i..<min(i + window, ids.count))
            i += part.count
            var todo: [(id: ChunkID, location: BlobLocation)] = []
            for (id, loc) in zip(part, try await source.locate(part, type: .data)) {
                guard try saver.claim(id, type: .data) else { report.blobsPresent += 1; continue }
                todo.append((id, loc))
            }
            report.mostBlobsHeld = max(report.mostBlobsHeld, todo.count + saver.claimsHeld + ids.inMemoryCount)
            if copiesWholePacks && !todo.isEmpty {
                // Packs of deltas alone were never in a first-pass batch; their bases are stored now.
                let left = try await copyWholePacks(todo.map { (id: $0.id, type: BlobType.data, location: $0.location) }, saver: saver, report: &report)
                if left.count < todo.count { todo = left.map { (id: $0.id, location: $0.location) } }
            }
            for (blob, stored) in zip(todo, try await readStored(todo, type: .data)) {
                let sealed: [UInt8], base: ChunkID?
                if let b = stored.base, let at = try destination.index.lookup(b, type: .data), at.base == nil {
                    (sealed, base) = (try destination.codec.sealEncoded(stored.encoded, type: .data, id: blob.id, base: b), b)
                } else {
                    (sealed, base) = (try destination.codec.seal(stored.chunk, type: .data, id: blob.id), nil)
                }
                try await saver.add(sealed: sealed, type: .data, id: blob.id, rawLength: stored.chunk.count, base: base)
                report.blobsCopied += 1
                progress.add(bytes: stored.chunk.count)
            }
        }
    }

    /// Reads blobs from the source in parallel, each proven good; results in order.
    private func readStored(_ blobs: [(id: ChunkID, location: BlobLocation)], type: BlobType) async throws -> [(chunk: [UInt8], encoded: [UInt8], base: ChunkID?)] {
        guard !blobs.isEmpty else { return [] }
        let source = self.source
        return try await withThrowingTaskGroup(of: (Int, [UInt8], [UInt8], ChunkID?).self) { group in
            for (i, blob) in blobs.enumerated() {
                group.addTask {
                    let r = try await source.readStoredBlob(type, blob.id, at: blob.location)
                    return (i, r.chunk, r.encoded, r.base)
                }
            }
            var out = [(chunk: [UInt8], encoded: [UInt8], base: ChunkID?)](repeating: ([], [], nil), count: blobs.count)
            for try await (i, chunk, encoded, base) in group { out[i] = (chunk, encoded, base) }
            return out
        }
    }

    // MARK: re-chunking

    /// Tree `id` rebuilt with every file's content re-chunked by the destination, each tree
    /// once a run (`TreeWalker.rewrite`).
    private func rechunkTree(_ id: ChunkID, profile: String, saver: BlobSaver, report: inout Report) async throws -> ChunkID {
        let chunker = try destination.chunker(profile: profile)
        let processor = ChunkProcessor(codec: destination.codec, saver: saver, delta: ChunkProcessor.deltaByDefault(profile: profile))
        return try await TreeWalker.rewrite(id, known: { id, _ in try rechunkedTrees.value(id) }, load: { id, _ in
            try await source.loadTree(id)
        }, change: { _, node in
            if node.kind == .file { progress.addFile() }
            if !node.content.ids.isEmpty {
                node.content = try await rechunkContent(node.content, chunker: chunker, processor: processor, saver: saver, report: &report)
            }
        }, save: { id, _, nodes in
            let made = try await saver.saveMetadata(.tree, Tree(nodes: nodes).encoded())
            try rechunkedTrees.set(id, made)
            return made
        })
    }

    /// Streams the content's bytes from the source through the destination's
    /// chunker and the backup pipeline's parallel stage: chunks are hashed,
    /// looked up and sealed on all cores, as deltas against similar chunks the
    /// destination stores where the profile uses deltas (dumps, RDB files).
    private func rechunkContent(_ content: ContentRef, chunker: FastCDC, processor: ChunkProcessor, saver: BlobSaver,
                                report: inout Report) async throws -> ContentRef {
        var builder = ContentBuilder()
        var buffer: [UInt8] = []
        let keep = chunker.parameters.maximumSize
        let batchBytes = max(4 * keep, 4 << 20)
        func cutChunks(final: Bool, report: inout Report) async throws {
            var offset = 0
            var batch: [[UInt8]] = []
            while buffer.count - offset > (final ? 0 : keep) {
                let n = buffer.withUnsafeBytes { chunker.cut(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
                batch.append(Array(buffer[offset..<offset + n]))
                offset += n
            }
            buffer.removeFirst(offset)
            for r in try await processor.process(batch) {
                if let sealed = r.sealed {
                    try await saver.add(sealed: sealed, type: .data, id: r.id, rawLength: r.length, base: r.base, features: r.features)
                    report.blobsCopied += 1
                } else {
                    report.blobsPresent += 1
                }
                progress.add(bytes: r.length)
                for l in builder.append(r.id, length: r.length) { _ = try await saver.saveMetadata(.list, l.encodedListBlob()) }
            }
        }
        try await forEachChunk(content) { chunk in
            buffer += chunk
            if buffer.count >= batchBytes { try await cutChunks(final: false, report: &report) }
        }
        try await cutChunks(final: true, report: &report)
        let (lists, root) = builder.finish()
        for l in lists { _ = try await saver.saveMetadata(.list, l.encodedListBlob()) }
        return root
    }

    /// Each data chunk of a content reference in order, `window` fetched in parallel.
    private func forEachChunk(_ content: ContentRef, _ body: ([UInt8]) async throws -> Void) async throws {
        let source = self.source, window = self.window
        try await ListExpander.expand(content, readList: { try await source.readBlob(.list, $0) }, data: { all in
            var i = 0
            while i < all.count {
                let ids = Array(all[i..<min(i + window, all.count)])
                let chunks = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
                    for (j, id) in ids.enumerated() { group.addTask { (j, try await source.readBlob(.data, id)) } }
                    var out = [[UInt8]](repeating: [], count: ids.count)
                    for try await (j, c) in group { out[j] = c }
                    return out
                }
                for c in chunks { try await body(c) }
                i += ids.count
            }
        })
    }
}

/// What a copy has done so far, for its progress line: plaintext bytes of the blobs it
/// stored (by id) or cut (re-chunking), and the files it went through.
public final class CopyProgress: Sendable {
    /// The counters `cairn copy` draws its progress line from, as a backup's.
    public let work = WorkProgress()
    public init() {}
    func add(bytes n: Int) { work.update { $0.bytesDone += UInt64(n) } }
    func addFile() { work.update { $0.filesDone += 1 } }
    public var bytesCopied: UInt64 { work.counters.bytesDone }
}
