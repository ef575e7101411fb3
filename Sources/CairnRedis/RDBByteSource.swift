/// Where the validator pulls RDB bytes from: a file, a socket, a test's
/// array. The validator itself never touches the system.
public protocol RDBByteSource {
    /// Fills up to `buffer.count` bytes; returns how many, 0 at the end of the input.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// An in-memory source, delivering at most `step` bytes per read (to exercise
/// every buffer boundary in tests).
public struct ArrayByteSource: RDBByteSource {
    private let bytes: [UInt8]
    private var position = 0
    private let step: Int

    public init(_ bytes: [UInt8], step: Int = .max) {
        self.bytes = bytes
        self.step = max(1, step)
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - position, step)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { b in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: b[position..<position + n]))
        }
        position += n
        return n
    }
}
