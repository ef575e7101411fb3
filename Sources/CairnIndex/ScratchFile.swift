import CairnSystem
#if canImport(Glibc)
import Glibc
#endif

/// A failure of a command's scratch file (the disk-backed working set of a
/// large prune, scrub or rebuild).
public struct ScratchFileError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// A file of scratch data that lives only as long as its process: created in
/// `directory` (the repository's cache directory: on disk, where the operator
/// keeps Cairn's cache, never a RAM-backed /tmp) and unlinked at once, so a
/// command that is killed leaves nothing behind. Appends are buffered; reads
/// are `pread`s, which may run on any thread once writing is done.
final class ScratchFile: @unchecked Sendable {
    private let fd: Int32
    let directory: String
    private var buffer: [UInt8] = []
    private static let bufferSize = 1 << 20
    /// Bytes appended so far (written or buffered).
    private(set) var size: UInt64 = 0

    init(directory: String) throws {
        self.directory = directory
        var fd: Int32 = -1
        for _ in 0..<16 {
            let path = "\(directory)/.scratch-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
            fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 { unlink(path); break }
            if errno != EEXIST { break }
        }
        guard fd >= 0 else {
            throw ScratchFileError(description: "cannot create a scratch file in \(directory): \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        buffer.reserveCapacity(Self.bufferSize)
    }

    deinit { close(fd) }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count > Self.bufferSize { try flush() }
        buffer.append(contentsOf: bytes)
        size += UInt64(bytes.count)
    }

    /// Writes what is buffered.
    func flush() throws {
        guard !buffer.isEmpty else { return }
        let at = size - UInt64(buffer.count)
        try buffer.withUnsafeBytes { raw in
            do { try FileDescriptorIO.pwriteAll(fd, raw, at: at) } catch {
                throw ScratchFileError(description: "cannot write the scratch file in \(directory) (\(size) bytes so far): \(error); it needs about 82 bytes per indexed blob on that file system")
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Reads `count` bytes at `offset` into `into` (which must hold them);
    /// only what `flush` has written.
    func read(at offset: UInt64, count: Int, into: UnsafeMutableRawPointer) throws {
        let got: Int
        do { got = try FileDescriptorIO.preadFull(fd, into: UnsafeMutableRawBufferPointer(start: into, count: count), at: offset) } catch {
            throw ScratchFileError(description: "cannot read the scratch file in \(directory): \(error)")
        }
        guard got == count else { throw ScratchFileError(description: "cannot read the scratch file in \(directory): unexpected end") }
    }
}
