import CairnFormat
import CairnRepository

extension Restorer {
    /// Streams one file node's content to `sink`, every chunk verified, in
    /// order; fails naming the snapshot and `path` when a chunk cannot be
    /// proven or the length differs from the node's. For exports (tar).
    public func readContent(of node: Node, path: String, sink: ([UInt8]) throws -> Void) async throws {
        try await readContentWindows(of: node, path: path) { chunks in for chunk in chunks { try sink(chunk) } }
    }

    /// Why a file's content was refused: it holds more than the node's size.
    static func overlong(_ node: Node) -> String {
        "its content holds more bytes than the \(node.size) the snapshot records (refused before writing them)"
    }

    /// `readContent` a window of chunks at a time (for writers that hand a
    /// window to one system call).
    func readContentWindows(of node: Node, path: String, sink: ([[UInt8]]) throws -> Void) async throws {
        var written: UInt64 = 0
        do {
            try await ContentReader(repo: repo, window: window).readWindows(node.content) { chunks in
                // Checked before a byte goes out: a stream consumer (tar) must never see more than the node declares.
                let bytes = chunks.reduce(0) { $0 + UInt64($1.count) }
                guard written + bytes <= node.size else { throw CairnError.other(Restorer.overlong(node)) }
                try sink(chunks)
                written += bytes
                progress.update { $0.bytesDone += bytes }
            }
        } catch {
            throw CairnError.restoreFailed(snapshot: String(record.id.prefix(8)), path: path, reason: describe(error))
        }
        guard written == node.size else {
            throw CairnError.restoreFailed(snapshot: String(record.id.prefix(8)), path: path, reason: "read \(written) bytes, snapshot records \(node.size)")
        }
    }
}
