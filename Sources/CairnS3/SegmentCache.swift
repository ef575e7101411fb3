/// Aligned segments of immutable objects, fetched once and shared: a restore
/// reads a pack's blobs one by one, and one ranged GET per 64 KiB blob costs
/// a request each; reading 4 MiB segments instead makes a few requests per
/// pack. Concurrent readers of one segment wait for the same fetch. Bounded:
/// the least recently used segments are dropped beyond `capacity`.
actor SegmentCache {
    struct Key: Hashable { let object: String; let index: UInt64 }

    let segmentSize: Int
    let capacity: Int
    private var entries: [Key: Task<[UInt8], any Error>] = [:]
    private var order: [Key] = []

    init(segmentSize: Int, capacity: Int) {
        self.segmentSize = segmentSize; self.capacity = max(2, capacity)
    }

    /// The segment's bytes (shorter at the end of the object), fetched by `load` once.
    func segment(_ key: Key, load: @escaping @Sendable () async throws -> [UInt8]) async throws -> [UInt8] {
        let task: Task<[UInt8], any Error>
        if let t = entries[key] {
            task = t
            if let i = order.firstIndex(of: key) { order.remove(at: i) }
            order.append(key)
        } else {
            task = Task { try await load() }
            entries[key] = task
            order.append(key)
            while order.count > capacity { entries[order.removeFirst()] = nil }
        }
        do { return try await task.value } catch {
            // A failed fetch is not kept: the next reader (or a retry) fetches again.
            if let t = entries[key], t == task { entries[key] = nil; order.removeAll { $0 == key } }
            throw error
        }
    }
}
