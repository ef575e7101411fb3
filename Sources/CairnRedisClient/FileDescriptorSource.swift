import CairnRedis
import CairnSystem
#if canImport(Glibc)
import Glibc
#endif

/// Reads RDB bytes from a file descriptor (a file, a pipe). Does not close it.
public struct FileDescriptorSource: RDBByteSource, @unchecked Sendable {
    let fd: Int32
    let label: String
    private let owner: Owner?

    /// Closes a descriptor this source opened when the last copy goes away.
    final class Owner {
        let fd: Int32
        init(_ fd: Int32) { self.fd = fd }
        deinit { close(fd) }
    }

    /// Reads a descriptor the caller owns.
    public init(fd: Int32, label: String) { self.fd = fd; self.label = label; owner = nil }

    /// Opens a file for reading; the source closes it.
    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RDBError.source("cannot open \(path): \(String(cString: strerror(errno)))") }
        self.fd = fd; label = path; owner = Owner(fd)
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        do { return try FileDescriptorIO.read(fd, into: buffer) } catch {
            throw RDBError.source("cannot read \(label): \(error)")
        }
    }
}

/// Passes every byte another source delivers on to a file descriptor (the
/// archiver's pipe) before handing it to the validator, so one read of the
/// input feeds both.
public struct TeeSource<Inner: RDBByteSource>: RDBByteSource {
    var inner: Inner
    let fd: Int32
    /// Bytes passed through so far.
    public private(set) var bytes: UInt64 = 0

    public init(_ inner: Inner, copyTo fd: Int32) { self.inner = inner; self.fd = fd }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try inner.read(into: buffer)
        do { try FileDescriptorIO.writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[..<n])) } catch {
            throw RDBError.source("the backup stopped reading the RDB (\(error))")
        }
        bytes += UInt64(n)
        return n
    }
}
