import CairnFormat

extension Restorer {
    /// Streams one file node's content to `sink`, every chunk verified, in
    /// order; fails naming the snapshot and `path` when a chunk cannot be
    /// proven or the length differs from the node's. For exports (tar).
    public func readContent(of node: Node, path: String, sink: ([UInt8]) throws -> Void) async throws {
        var written: UInt64 = 0
        do {
            try await ContentReader(repo: repo, window: window).read(node.content) { chunk in
                try sink(chunk)
                written += UInt64(chunk.count)
                progress.update { $0.bytesDone += UInt64(chunk.count) }
            }
        } catch {
            throw CairnError.restoreFailed(snapshot: String(record.id.prefix(8)), path: path, reason: describe(error))
        }
        guard written == node.size else {
            throw CairnError.restoreFailed(snapshot: String(record.id.prefix(8)), path: path, reason: "read \(written) bytes, snapshot records \(node.size)")
        }
    }
}
