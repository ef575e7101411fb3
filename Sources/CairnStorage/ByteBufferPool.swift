import Synchronization

/// Large byte arrays kept for reuse: a reader that fills many buffers of
/// megabytes one after another (a restore reading one span of a pack after
/// another, from S3 or a local store) takes an emptied one whose pages are
/// already mapped instead of a fresh allocation, whose every page the kernel
/// must fault in and zero, then unmap when it is freed (Docs/performance.md,
/// issues 16.4 and 16.6).
///
/// A buffer is kept only in place of one taken: where nothing reads through
/// the pool, what is given back is freed.
///
/// Value semantics make a mistaken recycle harmless: an array still shared
/// with another holder is not reused (emptying it would copy), and the
/// other holder keeps its bytes.
public final class ByteBufferPool: Sendable {
    /// The process's pool: HTTP responses and a local store's large ranged reads are read into it, restores give spans back.
    public static let shared = ByteBufferPool()

    /// Buffers smaller than this are not worth keeping (malloc reuses them itself).
    public let minimumCapacity: Int
    /// Buffers larger than this are not kept.
    public let maximumCapacity: Int
    /// Bytes of capacity kept at most, all buffers together: what an idle
    /// process holds after a restore. A buffer that does not fit is freed.
    public let maximumBytes: Int
    /// What a new buffer's capacity is rounded up to.
    public let granule: Int
    private let state = Mutex(State())

    private struct State {
        var kept: [[UInt8]] = []
        /// Buffers taken and not yet given back (at most `creditLimit`): how many more may be kept.
        var credit = 0
    }

    /// Takes remembered at most, so that buffers taken and never given back
    /// (responses read for other purposes) do not let the pool keep more.
    static let creditLimit = 16

    /// The defaults hold the spans of one restore (`Restorer.packsInFlight` of
    /// a pack each) and nothing small enough for malloc to reuse by itself.
    public init(minimumCapacity: Int = 1 << 20, maximumCapacity: Int = 64 << 20, maximumBytes: Int = 128 << 20, granule: Int = 4 << 20) {
        self.minimumCapacity = minimumCapacity
        self.granule = max(1, granule)
        self.maximumCapacity = min(maximumCapacity, maximumBytes)
        self.maximumBytes = maximumBytes
    }

    /// An empty array with room for at least `capacity` bytes: the smallest
    /// kept one large enough, else a new one.
    public func take(capacity: Int) -> [UInt8] {
        if capacity >= minimumCapacity, let reused = state.withLock({ s -> [UInt8]? in
            s.credit = min(s.credit + 1, Self.creditLimit)
            let fitting = s.kept.indices.filter { s.kept[$0].capacity >= capacity }
            return fitting.min { s.kept[$0].capacity < s.kept[$1].capacity }.map { s.kept.remove(at: $0) }
        }) {
            return reused
        }
        var fresh: [UInt8] = []
        // Rounded up, so that a buffer given back fits the next read of about
        // the same size (spans of one pack size differ by a few bytes); the
        // pages past what is written are never touched.
        fresh.reserveCapacity(capacity >= minimumCapacity ? (capacity + granule - 1) / granule * granule : capacity)
        return fresh
    }

    /// Takes `bytes` for reuse (leaving it empty) when it is the only
    /// reference to its storage and its size is one the pool keeps.
    public func recycle(_ bytes: inout [UInt8]) {
        var taken: [UInt8] = []
        swap(&taken, &bytes)
        let capacity = taken.capacity
        guard capacity >= minimumCapacity, capacity <= maximumCapacity else { return }
        // Empties in place only when unshared; a shared array gets a new,
        // untouched buffer instead, which is not worth keeping.
        let before = taken.withUnsafeBufferPointer { $0.baseAddress }
        taken.removeAll(keepingCapacity: true)
        guard taken.withUnsafeBufferPointer({ $0.baseAddress }) == before else { return }
        state.withLock { s in
            guard s.credit > 0, s.kept.reduce(capacity, { $0 + $1.capacity }) <= maximumBytes else { return }
            s.credit -= 1
            s.kept.append(taken)
        }
    }

    /// Buffers kept now (for tests).
    public var keptCount: Int { state.withLock { $0.kept.count } }
}
