import Synchronization

/// Buffers of one size and alignment (direct I/O wants page-aligned ones),
/// handed out and taken back: a caller that needs one buffer per task at a
/// time reuses a few instead of allocating fresh pages for every task.
final class AlignedBufferPool: Sendable {
    /// One buffer, freed when the last reference goes (the pool's or a caller's).
    final class Buffer: @unchecked Sendable {
        let bytes: UnsafeMutableRawBufferPointer

        fileprivate init(size: Int, alignment: Int) {
            bytes = .allocate(byteCount: size, alignment: alignment)
        }

        deinit { bytes.deallocate() }
    }

    private let size: Int
    private let alignment: Int
    private let idle = Mutex<[Buffer]>([])

    init(size: Int, alignment: Int) {
        self.size = size; self.alignment = alignment
    }

    /// An idle buffer, or a new one when every buffer is in use.
    func take() -> Buffer {
        idle.withLock { $0.popLast() } ?? Buffer(size: size, alignment: alignment)
    }

    /// Gives `buffer` back for the next `take`.
    func give(_ buffer: Buffer) {
        idle.withLock { $0.append(buffer) }
    }
}
