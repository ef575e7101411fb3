#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A temporary file an object (a pack) is assembled in before it is stored,
/// so that a 16 MiB pack costs no memory while it fills. Writes go through a
/// small buffer; `close()` makes the file complete, `discard()` removes it.
/// Not thread-safe: one owner appends.
public final class StagingFile {
    /// Where the file is; hand it to `ObjectStore.putFile` once closed.
    public let path: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private let bufferSize = 256 << 10
    /// Bytes appended so far.
    public private(set) var size: UInt64 = 0

    private let token: UInt64

    /// Creates an empty file in `directory` (made if missing) with `modes`,
    /// named after this process (`TemporaryFileName`) so that the next
    /// writer removes it if this process is killed. An interrupted process
    /// removes it on its way out.
    public init(directory: String, prefix: String, modes: FileModes = .ownerOnly) throws {
        try Interruption.shared.checkNotInterrupted()
        try modes.makeDirectory(directory)
        let name = "\(directory)/" + TemporaryFileName.make(prefix: prefix)
        token = Interruption.shared.register("temporary file", .unlink(name))
        do {
            fd = try modes.createFile(name)
        } catch { Interruption.shared.unregister(token); throw error }
        path = name
        // Interrupted while creating it: the cleanup may have run before the file existed.
        if Interruption.shared.signal != nil {
            Glibc.close(fd); unlink(name); Interruption.shared.unregister(token)
            fd = -1
            try Interruption.shared.checkNotInterrupted()
        }
        buffer.reserveCapacity(bufferSize)
    }

    deinit {
        if fd >= 0 { Glibc.close(fd); unlink(path) }
        Interruption.shared.unregister(token)
    }

    /// Appends bytes at the end of the file.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        size += UInt64(bytes.count)
        if buffer.count + bytes.count > bufferSize { try drain() }
        if bytes.count >= bufferSize { try LocalFile.writeAll(fd, bytes, path: path); return }
        buffer.append(contentsOf: bytes)
    }

    public func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try append($0) } }

    /// Writes what is buffered and closes the file; it stays on disk.
    public func close() throws {
        try drain()
        let fd = self.fd
        self.fd = -1
        guard Glibc.close(fd) == 0 else { throw LocalStore.error(path) }
    }

    /// Closes (if open) and removes the file.
    public func discard() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
        unlink(path)
    }

    private func drain() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try LocalFile.writeAll(fd, $0, path: path) }
        buffer.removeAll(keepingCapacity: true)
    }
}
