import CairnFormat
import CairnIndex

/// Streams a file's content chunk by chunk: list blobs are expanded lazily
/// (one per level held at a time) and data chunks are fetched, verified and
/// decrypted `window` at a time in parallel, then delivered in order.
struct ContentReader {
    let repo: Repository
    let window: Int

    /// Calls `sink` with each verified chunk in order.
    func read(_ content: ContentRef, sink: ([UInt8]) throws -> Void) async throws {
        if content.level == 0 {
            // Fetch window n+1 while window n is being written: reading and
            // verifying overlap with the writes instead of alternating.
            var i = 0
            func next() -> Task<[[UInt8]], Error>? {
                guard i < content.ids.count else { return nil }
                let ids = Array(content.ids[i..<min(i + window, content.ids.count)])
                i += ids.count
                return Task { [self] in try await fetch(ids) }
            }
            var pending = next()
            while let current = pending {
                let chunks = try await current.value
                pending = next()
                do { for chunk in chunks { try sink(chunk) } } catch {
                    pending?.cancel()
                    _ = try? await pending?.value
                    throw error
                }
            }
            return
        }
        for listID in content.ids {
            let child = try ContentRef.decodeListBlob(try await repo.readBlob(.list, listID))
            guard child.level == content.level - 1 else {
                throw CairnError.damagedBlob(blob: listID.hex, pack: "-", reason: "list blob has level \(child.level) under level \(content.level)")
            }
            try await read(child, sink: sink)
        }
    }

    private func fetch(_ ids: [ChunkID]) async throws -> [[UInt8]] {
        var locations: [BlobLocation] = []
        for id in ids {
            guard let loc = try repo.index.lookup(id, type: .data) else { throw CairnError.missingBlob(id.hex) }
            locations.append(loc)
        }
        let repo = self.repo
        return try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for (i, id) in ids.enumerated() {
                let loc = locations[i]
                group.addTask { (i, try await repo.readBlob(.data, id, at: loc)) }
            }
            var out = [[UInt8]](repeating: [], count: ids.count)
            for try await (i, c) in group { out[i] = c }
            return out
        }
    }
}
