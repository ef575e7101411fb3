import CairnCrypto
import CairnFormat
import CairnRepository
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

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

    /// Delta compression is on by default for database dumps and RDB files,
    /// where changes are scattered.
    static func deltaByDefault(profile: String) -> Bool { [ChunkerProfileName.dump, ChunkerProfileName.rdb].contains(profile) }

    /// A processor on every core.
    init(codec: BlobCodec, saver: BlobSaver, delta: Bool) {
        self.codec = codec; self.saver = saver; self.delta = delta
        workers = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// Hashes the batch, asks the index once which chunks it has, then
    /// compresses and seals the rest; results in input order.
    func process(_ chunks: [[UInt8]]) async throws -> [Result] {
        let ids = try await parallel(chunks.count) { SHA256.id(chunks[$0]) }
        // One read transaction for the batch: a stream read again is all known chunks.
        let known = try saver.repo.index.contains(ids, type: .data)
        let fresh = known.indices.filter { !known[$0] }
        var results = ids.indices.map { Result(id: ids[$0], length: chunks[$0].count, sealed: nil) }
        let sealed = try await parallel(fresh.count) { try await processNew(chunks[fresh[$0]], id: ids[fresh[$0]]) }
        for (k, i) in fresh.enumerated() { results[i] = sealed[k] }
        return results
    }

    /// `body(0..<n)` on all workers; workers take the next index from a shared
    /// counter, so one that drew cheap items does not idle while another works.
    private func parallel<T: Sendable>(_ n: Int, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
        guard n > 0 else { return [] }
        let next = WorkCounter()
        return try await withThrowingTaskGroup(of: [(Int, T)].self) { group in
            for _ in 0..<min(workers, n) {
                group.addTask {
                    var out: [(Int, T)] = []
                    while true {
                        let i = next.take()
                        guard i < n else { break }
                        out.append((i, try await body(i)))
                    }
                    return out
                }
            }
            var results = [T?](repeating: nil, count: n)
            for try await part in group { for (i, r) in part { results[i] = r } }
            return results.map { $0! }
        }
    }

    /// A chunk the index did not have a moment ago: claim it (another task,
    /// or a pack stored since, may have it now) and seal it.
    private func processNew(_ c: [UInt8], id: ChunkID) async throws -> Result {
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
