import CairnCrypto
import CairnFormat
import Synchronization

/// The parallel stage of the pipeline: hash every chunk of a batch, claim
/// the new ones, and compress and seal those, on all cores. With delta
/// compression on, a new chunk whose super-features match a chunk already
/// stored whole is sealed as a zstd delta against it when that is smaller.
struct ChunkProcessor: Sendable {
    struct Result: Sendable {
        let id: ChunkID
        let length: Int
        /// The sealed blob when this chunk is new to the repository.
        let sealed: [UInt8]?
        /// The delta base the sealed blob was compressed against.
        var base: ChunkID? = nil
        /// Super-features of a chunk stored whole (future delta bases).
        var features: [Int64]? = nil
    }

    let codec: BlobCodec
    let saver: BlobSaver
    let workers: Int
    /// Look for delta bases (database dumps and RDB files).
    let delta: Bool

    func process(_ chunks: [[UInt8]]) async throws -> [Result] {
        let n = chunks.count
        let workers = min(self.workers, max(n, 1))
        // Workers take the next chunk from a shared counter rather than a fixed
        // stride, so one that drew cheap (known) chunks does not idle while
        // the other still compresses.
        let next = WorkCounter()
        return try await withThrowingTaskGroup(of: [(Int, Result)].self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var out: [(Int, Result)] = []
                    while true {
                        let i = next.take()
                        guard i < n else { break }
                        out.append((i, try await processOne(chunks[i])))
                    }
                    return out
                }
            }
            var results = [Result?](repeating: nil, count: n)
            for try await part in group { for (i, r) in part { results[i] = r } }
            return results.map { $0! }
        }
    }

    private func processOne(_ c: [UInt8]) async throws -> Result {
        let id = SHA256.id(c)
        guard try saver.claim(id, type: .data) else { return Result(id: id, length: c.count, sealed: nil) }
        guard delta, codec.level > 0, let features = SimilarityFeatures.of(c) else {
            return Result(id: id, length: c.count, sealed: try codec.seal(c, type: .data, id: id))
        }
        if let baseID = try saver.repo.index.similarChunk(features), baseID != id,
           let basePlain = try? await saver.repo.bases.plaintext(baseID, repo: saver.repo) {
            let (sealed, base) = try codec.sealPreferringDelta(c, id: id, base: baseID, basePlaintext: basePlain)
            // A chunk stored as a delta is never a base itself: chains stay one level deep.
            return Result(id: id, length: c.count, sealed: sealed, base: base, features: base == nil ? features : nil)
        }
        return Result(id: id, length: c.count, sealed: try codec.seal(c, type: .data, id: id), features: features)
    }
}

/// Hands out 0, 1, 2, … to concurrent workers.
final class WorkCounter: Sendable {
    private let next = Atomic<Int>(0)
    func take() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }
}
