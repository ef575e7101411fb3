import CairnFormat
import Synchronization

/// Recently read delta bases, so a run of similar chunks reads each base
/// once. Bounded by bytes; evicts the oldest entry first.
package final class BaseCache: Sendable {
    private struct State {
        var entries: [ChunkID: [UInt8]] = [:]
        /// Insertion order; entries before `head` are already evicted.
        var order: [ChunkID] = []
        var head = 0
        var bytes = 0
    }
    private let state = Mutex(State())
    private let capacity: Int

    package init(capacityBytes: Int) { capacity = capacityBytes }

    /// The base's plaintext, read through `repo` on a miss.
    package func plaintext(_ id: ChunkID, repo: Repository) async throws -> [UInt8] {
        try await plaintext(id) { try await repo.readBlob(.data, id) }
    }

    /// The base's plaintext, read (and verified) by `load` on a miss.
    package func plaintext(_ id: ChunkID, load: () async throws -> [UInt8]) async throws -> [UInt8] {
        if let hit = cached(id) { return hit }
        let plain = try await load()
        insert(id, plain)
        return plain
    }

    /// The cached plaintext of `id`, if any.
    package func cached(_ id: ChunkID) -> [UInt8]? { state.withLock { $0.entries[id] } }

    /// Keeps a verified plaintext, evicting the oldest entries beyond the capacity.
    package func insert(_ id: ChunkID, _ plain: [UInt8]) {
        state.withLock { s in
            guard s.entries[id] == nil else { return }
            s.entries[id] = plain; s.order.append(id); s.bytes += plain.count
            while s.bytes > capacity, s.head < s.order.count {
                let old = s.order[s.head]
                s.head += 1
                s.bytes -= s.entries.removeValue(forKey: old)?.count ?? 0
            }
            // Drop the evicted prefix now and then instead of shifting the array at every eviction.
            if s.head > 1024, s.head * 2 > s.order.count {
                s.order.removeFirst(s.head)
                s.head = 0
            }
        }
    }
}
