#if canImport(Glibc)
import Glibc
#endif

/// A failed system call's `errno`, with its text for messages.
public struct Errno: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Int32

    public init(_ code: Int32) { self.code = code }

    /// The `errno` of an error `FileDescriptorIO` threw (`EIO` for any other error).
    public static func code(of error: any Error) -> Int32 { (error as? Errno)?.code ?? EIO }

    /// `strerror`'s text ("No space left on device").
    public var description: String { String(cString: strerror(code)) }
}

/// The one place read/write loops live: each call is retried when a signal interrupts it (`EINTR`),
/// and the `All` forms continue after short transfers. They throw only `Errno`; callers turn it
/// into their own error (`Errno.code(of:)`).
public enum FileDescriptorIO {
    /// One `read(2)`, retried on `EINTR`: bytes read, 0 at the end of the file.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw Errno(errno) }
        }
    }

    /// Reads until `buffer` is full or the file ends: bytes read (fewer only at the end).
    public static func readFull(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var got = 0
        while got < buffer.count {
            let n = try read(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[got...]))
            if n == 0 { break }
            got += n
        }
        return got
    }

    /// `pread(2)` until `buffer` is full or the file ends: bytes read (fewer only at the end).
    public static func preadFull(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        var got = 0
        while got < buffer.count {
            let n = Glibc.pread(fd, buffer.baseAddress.map { $0 + got }, buffer.count - got, off_t(offset) + off_t(got))
            if n < 0 {
                if errno == EINTR { continue }
                throw Errno(errno)
            }
            if n == 0 { break }
            got += n
        }
        return got
    }

    /// Writes every byte of `bytes` (short writes continued).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress.map { $0 + off }, bytes.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                throw Errno(errno)
            }
            off += n
        }
    }

    /// `pwrite(2)` of every byte of `bytes` at `offset` (short writes continued; a write of nothing is `EIO`).
    public static func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        var off = 0
        while off < bytes.count {
            let n = Glibc.pwrite(fd, bytes.baseAddress.map { $0 + off }, bytes.count - off, off_t(offset) + off_t(off))
            if n < 0 {
                if errno == EINTR { continue }
                throw Errno(errno)
            }
            if n == 0 { throw Errno(EIO) }
            off += n
        }
    }
}
