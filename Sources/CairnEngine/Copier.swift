import CairnCrypto
import CairnFormat
import CairnIndex
import Synchronization

/// Copies snapshots from one repository into another, storing only the blobs
/// the destination lacks.
///
/// When both repositories cut chunks the same way (the destination was made
/// with `cairn init --copy-chunker-from`, so chunker seed and profiles match),
/// blobs are copied by id: each is read from the source (authenticated,
/// decompressed, hash-checked), then sealed under the destination's keys.
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
        public var copied: [(source: String, destination: String)] = []
        public var skipped: [String] = []
        public var blobsCopied = 0
        public var blobsPresent = 0
        public var rechunked = false
        public var bytesAdded: UInt64 = 0
    }

    public let progress = CopyProgress()

    public init(source: Repository, destination: Repository) {
        self.source = source; self.destination = destination
    }

    /// True when the destination cuts chunks exactly as the source does.
    public var sameChunker: Bool {
        source.chunkerSeed == destination.chunkerSeed && source.config.profiles == destination.config.profiles
    }

    public func copy(_ snapshots: [SnapshotRecord]) async throws -> Report {
        var report = Report()
        report.rechunked = !sameChunker
        let existing = try destination.snapshots()
        for record in snapshots.sorted(by: { $0.snapshot.timeNanos < $1.snapshot.timeNanos }) {
            let s = record.snapshot
            if existing.contains(where: { Self.sameOrigin($0.snapshot, s) }) {
                report.skipped.append(record.id)
                continue
            }
            let saver = BlobSaver(repo: destination)
            do {
                let root: ChunkID
                if sameChunker {
                    try await copyTree(s.root, saver: saver, report: &report)
                    root = s.root
                } else {
                    root = try await rechunkTree(s.root, profile: Self.profile(of: s), saver: saver, report: &report)
                }
                try await saver.finish()
                var copy = s
                copy.root = root
                copy.newBytes = saver.currentStats.newDataRawBytes
                let id = try await destination.saveSnapshot(copy)
                report.bytesAdded += saver.currentStats.packBytes
                report.copied.append((record.id, id))
            } catch {
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

    /// The chunker profile a snapshot's content was cut with, for re-chunking.
    static func profile(of s: Snapshot) -> String {
        if let p = s.extra["profile"] { return p }
        return s.sourceKind == "stream" ? "dump" : "file"
    }

    // MARK: copy by id

    private func copyTree(_ id: ChunkID, saver: BlobSaver, report: inout Report) async throws {
        let tree = try await source.loadTree(id)
        for node in tree.nodes {
            if let sub = node.subtree { try await copyTree(sub, saver: saver, report: &report) }
            if !node.content.ids.isEmpty { try await copyContent(node.content, saver: saver, report: &report) }
        }
        try await copyBlobs([id], type: .tree, saver: saver, report: &report)
    }

    private func copyContent(_ content: ContentRef, saver: BlobSaver, report: inout Report) async throws {
        if content.level == 0 {
            var i = 0
            while i < content.ids.count {
                let ids = Array(content.ids[i..<min(i + window, content.ids.count)])
                try await copyBlobs(ids, type: .data, saver: saver, report: &report)
                i += ids.count
            }
            return
        }
        for listID in content.ids {
            let child = try content.child(listID, plaintext: try await source.readBlob(.list, listID))
            try await copyContent(child, saver: saver, report: &report)
            try await copyBlobs([listID], type: .list, saver: saver, report: &report)
        }
    }

    /// Reads the blobs the destination lacks (in parallel), seals them for the destination, in order.
    private func copyBlobs(_ ids: [ChunkID], type: BlobType, saver: BlobSaver, report: inout Report) async throws {
        var missing: [ChunkID] = []
        for id in ids {
            if try saver.claim(id, type: type) { missing.append(id) } else { report.blobsPresent += 1 }
        }
        guard !missing.isEmpty else { return }
        let source = self.source
        let plaintexts = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for (i, id) in missing.enumerated() { group.addTask { (i, try await source.readBlob(type, id)) } }
            var out = [[UInt8]](repeating: [], count: missing.count)
            for try await (i, p) in group { out[i] = p }
            return out
        }
        for (id, plain) in zip(missing, plaintexts) {
            try await saver.add(sealed: try destination.codec.seal(plain, type: type, id: id), type: type, id: id, rawLength: plain.count)
            if type == .tree { try destination.index.cacheTree(id, plain) }
            report.blobsCopied += 1
            progress.add(bytes: plain.count)
        }
    }

    // MARK: re-chunking

    private func rechunkTree(_ id: ChunkID, profile: String, saver: BlobSaver, report: inout Report) async throws -> ChunkID {
        let tree = try await source.loadTree(id)
        var nodes: [Node] = []
        let chunker = try destination.chunker(profile: profile)
        for var node in tree.nodes {
            if let sub = node.subtree { node.subtree = try await rechunkTree(sub, profile: profile, saver: saver, report: &report) }
            if !node.content.ids.isEmpty {
                node.content = try await rechunkContent(node.content, chunker: chunker, saver: saver, report: &report)
            }
            nodes.append(node)
        }
        return try await saver.saveMetadata(.tree, Tree(nodes: nodes).encoded())
    }

    /// Streams the content's bytes from the source through the destination's chunker.
    private func rechunkContent(_ content: ContentRef, chunker: FastCDC, saver: BlobSaver, report: inout Report) async throws -> ContentRef {
        var builder = ContentBuilder()
        var buffer: [UInt8] = []
        let keep = chunker.parameters.maximumSize
        func cutChunks(final: Bool, report: inout Report) async throws {
            var offset = 0
            while buffer.count - offset > (final ? 0 : keep) {
                let n = buffer.withUnsafeBytes { chunker.cut(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
                let chunk = Array(buffer[offset..<offset + n])
                offset += n
                let cid = SHA256.id(chunk)
                if try saver.claim(cid, type: .data) {
                    try await saver.add(sealed: try destination.codec.seal(chunk, type: .data, id: cid), type: .data, id: cid, rawLength: chunk.count)
                    report.blobsCopied += 1
                } else {
                    report.blobsPresent += 1
                }
                progress.add(bytes: chunk.count)
                for l in builder.append(cid, length: chunk.count) { _ = try await saver.saveMetadata(.list, l.encodedListBlob()) }
            }
            buffer.removeFirst(offset)
        }
        try await forEachChunk(content) { chunk in
            buffer += chunk
            if buffer.count >= 4 * keep { try await cutChunks(final: false, report: &report) }
        }
        try await cutChunks(final: true, report: &report)
        let (lists, root) = builder.finish()
        for l in lists { _ = try await saver.saveMetadata(.list, l.encodedListBlob()) }
        return root
    }

    /// Each data chunk of a content reference in order, `window` fetched in parallel.
    private func forEachChunk(_ content: ContentRef, _ body: ([UInt8]) async throws -> Void) async throws {
        if content.level == 0 {
            var i = 0
            let source = self.source
            while i < content.ids.count {
                let ids = Array(content.ids[i..<min(i + window, content.ids.count)])
                let chunks = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
                    for (j, id) in ids.enumerated() { group.addTask { (j, try await source.readBlob(.data, id)) } }
                    var out = [[UInt8]](repeating: [], count: ids.count)
                    for try await (j, c) in group { out[j] = c }
                    return out
                }
                for c in chunks { try await body(c) }
                i += ids.count
            }
            return
        }
        for listID in content.ids {
            let child = try content.child(listID, plaintext: try await source.readBlob(.list, listID))
            try await forEachChunk(child, body)
        }
    }
}

/// Bytes copied so far, for a progress line.
public final class CopyProgress: Sendable {
    private let bytes = Atomic<UInt64>(0)
    public init() {}
    func add(bytes n: Int) { bytes.add(UInt64(n), ordering: .relaxed) }
    public var bytesCopied: UInt64 { bytes.load(ordering: .relaxed) }
}
