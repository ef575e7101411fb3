import CairnFormat
import CairnIndex
import CairnRepository

/// Streams a file's content chunk by chunk: list blobs are expanded lazily
/// (one per level held at a time) and data chunks are fetched, verified and
/// decrypted `window` at a time, up to `depth` windows ahead of the one being
/// delivered, then delivered in order. Memory: at most `(depth + 1) × window`
/// chunks, and `(depth + 1) × windowBytes` plus one chunk, per reader.
struct ContentReader {
    let repo: Repository
    let window: Int
    /// Windows in flight while one is written: with one, the wait for the
    /// slowest chunk of a window left a core idle at every window boundary.
    var depth = 2

    /// Windows whose index entries are looked up at once.
    static let lookahead = 16
    /// Plaintext bytes a window holds at most (bounding memory for large chunks).
    static let windowBytes = 2 << 20

    init(repo: Repository, window: Int, depth: Int = 2) {
        self.repo = repo; self.window = max(1, window); self.depth = max(1, depth)
    }

    /// Calls `sink` with each verified chunk in order.
    func read(_ content: ContentRef, sink: ([UInt8]) throws -> Void) async throws {
        try await readWindows(content) { chunks in for chunk in chunks { try sink(chunk) } }
    }

    /// Calls `sink` with each window of verified chunks in order (for writers
    /// that hand a whole window to one system call).
    func readWindows(_ content: ContentRef, sink: ([[UInt8]]) throws -> Void) async throws {
        try await ListExpander.expand(content, readList: { [repo] in try await repo.readBlob(.list, $0) }, data: { ids in
            try await readWindows(ids, sink: sink)
        })
    }

    /// `readWindows` for one run of data chunk ids.
    private func readWindows(_ ids: [ChunkID], sink: ([[UInt8]]) throws -> Void) async throws {
        // Index entries are looked up `lookahead` windows at a time: each
        // lookup is a SQLite read transaction, whose file locking costs
        // more than the lookups themselves.
        var located = LocatedChunks()
        var lookedUp = 0, i = 0, at = 0
        func next() async throws -> Task<[[UInt8]], Error>? {
            guard i < ids.count else { return nil }
            if at == located.reads.count {
                let end = min(lookedUp + window * Self.lookahead, ids.count)
                located = try await repo.locateDataChunks(Array(ids[lookedUp..<end]))
                lookedUp = end
                at = 0
            }
            // A window is `window` chunks or `windowBytes`, whichever comes first (at
            // least one chunk): 32 chunks of a 256 KiB-average WAL profile would be 8 MiB.
            var end = at, bytes = 0
            while end < min(at + window, located.reads.count), end == at || bytes < Self.windowBytes {
                bytes += Int(located.reads[end].location.rawLength)
                end += 1
            }
            let reads = located.reads[at..<end]
            at += reads.count
            i += reads.count
            let bases = located.bases
            return Task { [repo] in try await repo.readDataChunks(reads, baseLocations: bases) }
        }
        var pending: [Task<[[UInt8]], Error>] = []
        do {
            while pending.count < depth, let t = try await next() { pending.append(t) }
            while !pending.isEmpty {
                let chunks = try await pending.removeFirst().value
                if let t = try await next() { pending.append(t) }
                // The fetches are unstructured tasks: stop here when the restore was cancelled.
                try Task.checkCancellation()
                try sink(chunks)
            }
        } catch {
            for p in pending { p.cancel() }
            for p in pending { _ = try? await p.value }
            throw error
        }
    }
}
