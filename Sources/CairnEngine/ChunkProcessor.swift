import CairnCrypto
import CairnFormat

/// The parallel stage of the pipeline: hash every chunk of a batch, claim
/// the new ones, and compress and seal those, on all cores.
struct ChunkProcessor: Sendable {
    struct Result: Sendable {
        let id: ChunkID
        let length: Int
        /// The sealed blob when this chunk is new to the repository.
        let sealed: [UInt8]?
    }

    let codec: BlobCodec
    let saver: BlobSaver
    let workers: Int

    func process(_ chunks: [[UInt8]]) async throws -> [Result] {
        let n = chunks.count
        let workers = min(self.workers, max(n, 1))
        return try await withThrowingTaskGroup(of: [(Int, Result)].self) { group in
            for w in 0..<workers {
                group.addTask {
                    var out: [(Int, Result)] = []
                    var i = w
                    while i < n {
                        let c = chunks[i]
                        let id = SHA256.id(c)
                        let sealed = try saver.claim(id, type: .data) ? try codec.seal(c, type: .data, id: id) : nil
                        out.append((i, Result(id: id, length: c.count, sealed: sealed)))
                        i += workers
                    }
                    return out
                }
            }
            var results = [Result?](repeating: nil, count: n)
            for try await part in group { for (i, r) in part { results[i] = r } }
            return results.map { $0! }
        }
    }
}
