/// Aligned segments of immutable objects, fetched once and shared: a restore
/// reads a pack's blobs one by one, and one ranged GET per 64 KiB blob costs
/// a request each; reading 4 MiB segments instead makes a few requests per
/// pack. Concurrent readers of one segment wait for the same fetch. Bounded:
/// the least recently used segments are dropped beyond `capacity`.
///
/// A read that looks sequential (it starts at the object's first byte, or
/// the segment before it is held) fetches up to `readahead` segments in one
/// request, stopping before a segment already held: a restore reads packs
/// front to back, and each GET has a fixed cost (a round trip on S3; on some
/// servers a read of the whole object however small the range).
actor SegmentCache {
    struct Key: Hashable { let object: String; let index: UInt64 }

    let segmentSize: Int
    let capacity: Int
    let readahead: Int
    private var entries: [Key: Entry] = [:]
    private var order: [Key] = []
    private var spans: UInt64 = 0

    /// A segment's fetch, and the request (span) it came with.
    private struct Entry {
        let task: Task<[UInt8], any Error>
        let span: UInt64
    }

    init(segmentSize: Int, capacity: Int, readahead: Int = 1) {
        self.segmentSize = segmentSize; self.capacity = max(2, capacity)
        self.readahead = max(1, min(readahead, self.capacity / 2))
    }

    /// The segment's bytes (shorter at the end of the object, empty past it),
    /// fetched once by `load(first, count)`, which returns the bytes of
    /// `count` segments from segment `first` (fewer at the end of the object).
    /// `sequential` says the caller reads from the object's first byte.
    func segment(_ key: Key, sequential: Bool = false,
                 load: @escaping @Sendable (_ first: UInt64, _ count: Int) async throws -> [UInt8]) async throws -> [UInt8] {
        let task: Task<[UInt8], any Error>
        if let e = entries[key] {
            task = e.task
            if let i = order.lastIndex(of: key) { order.remove(at: i) }
            order.append(key)
        } else {
            var count = 1
            if sequential || (key.index > 0 && entries[Key(object: key.object, index: key.index - 1)] != nil) {
                while count < readahead, entries[Key(object: key.object, index: key.index + UInt64(count))] == nil { count += 1 }
            }
            let size = segmentSize
            spans &+= 1
            let span = Task { [count, index = key.index] in try await load(index, count) }
            var first = span
            for j in 0..<count {
                let k = Key(object: key.object, index: key.index + UInt64(j))
                let part: Task<[UInt8], any Error> = j == 0 && count == 1 ? span : Task { [size] in
                    let bytes = try await span.value
                    let from = min(bytes.count, j * size)
                    return Array(bytes[from..<min(bytes.count, from + size)])
                }
                entries[k] = Entry(task: part, span: spans)
                order.append(k)
                if j == 0 { first = part }
            }
            task = first
            while order.count > capacity { entries[order.removeFirst()] = nil }
        }
        do { return try await task.value } catch {
            // A failed fetch is not kept, nor the rest of its span: the next reader (or a retry) fetches again.
            if let e = entries[key], e.task == task {
                let failed = order.filter { entries[$0]?.span == e.span }
                for k in failed { entries[k] = nil }
                order.removeAll { failed.contains($0) }
            }
            throw error
        }
    }
}
