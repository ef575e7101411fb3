import CairnFormat
import Synchronization

/// Recently read delta bases, so a run of similar chunks reads each base
/// once. Bounded by bytes; evicts the oldest entry first.
final class BaseCache: Sendable {
    private struct State {
        var entries: [ChunkID: [UInt8]] = [:]
        var order: [ChunkID] = []
        var bytes = 0
    }
    private let state = Mutex(State())
    private let capacity: Int

    init(capacityBytes: Int = 32 << 20) { capacity = capacityBytes }

    /// The base's plaintext, read through `repo` on a miss.
    func plaintext(_ id: ChunkID, repo: Repository) async throws -> [UInt8] {
        try await plaintext(id) { try await repo.readBlob(.data, id) }
    }

    /// The base's plaintext, read (and verified) by `load` on a miss.
    func plaintext(_ id: ChunkID, load: () async throws -> [UInt8]) async throws -> [UInt8] {
        if let hit = state.withLock({ $0.entries[id] }) { return hit }
        let plain = try await load()
        state.withLock { s in
            guard s.entries[id] == nil else { return }
            s.entries[id] = plain; s.order.append(id); s.bytes += plain.count
            while s.bytes > capacity, !s.order.isEmpty {
                let old = s.order.removeFirst()
                s.bytes -= s.entries.removeValue(forKey: old)?.count ?? 0
            }
        }
        return plain
    }
}
