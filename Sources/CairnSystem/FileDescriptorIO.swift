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

/// The one place read/write loops live: each call is made again when a signal interrupts it
/// (`SystemCall.retrying`), and the `All` forms continue after short transfers. They throw only
/// `Errno`; callers turn it into their own error (`Errno.code(of:)`).
public enum FileDescriptorIO {
    /// One `read(2)`, retried on `EINTR`: bytes read, 0 at the end of the file.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try SystemCall.retrying { Glibc.read(fd, buffer.baseAddress, buffer.count) }
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
            let n = try SystemCall.retrying { Glibc.pread(fd, buffer.baseAddress.map { $0 + got }, buffer.count - got, off_t(offset) + off_t(got)) }
            if n == 0 { break }
            got += n
        }
        return got
    }

    /// Writes every byte of `bytes` (short writes continued).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var off = 0
        while off < bytes.count {
            off += try SystemCall.retrying { Glibc.write(fd, bytes.baseAddress.map { $0 + off }, bytes.count - off) }
        }
    }

    /// `pwrite(2)` of every byte of `bytes` at `offset` (short writes continued; a write of nothing is `EIO`).
    public static func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        var off = 0
        while off < bytes.count {
            let n = try SystemCall.retrying { Glibc.pwrite(fd, bytes.baseAddress.map { $0 + off }, bytes.count - off, off_t(offset) + off_t(off)) }
            if n == 0 { throw Errno(EIO) }
            off += n
        }
    }

    /// Writes every byte `iov` points at: `writev(2)`, or `pwritev(2)` from `offset` when given
    /// (the file position is then not used, so several threads may write one file), made again
    /// after short writes. `iov` is consumed: its entries are advanced past what was written.
    public static func writevAll(_ fd: Int32, _ iov: inout [iovec], at offset: UInt64?) throws {
        var done: UInt64 = 0, first = 0
        while first < iov.count {
            // 1024 is Linux's IOV_MAX, which Glibc does not export to Swift.
            let n = try iov[first...].withUnsafeBufferPointer { v in
                try SystemCall.retrying {
                    offset.map { pwritev(fd, v.baseAddress, Int32(min(v.count, 1024)), off_t($0 + done)) } ?? writev(fd, v.baseAddress, Int32(min(v.count, 1024)))
                }
            }
            done += UInt64(n)
            // Skip what was written; a partial write leaves the rest of one iovec.
            var left = n
            while first < iov.count, left >= iov[first].iov_len { left -= iov[first].iov_len; first += 1 }
            if left > 0 {
                iov[first].iov_base += left
                iov[first].iov_len -= left
            }
        }
    }

    /// `send(2)` of every byte on a socket, without `SIGPIPE` (a peer that went away is `EPIPE`).
    public static func sendAll(_ socket: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var off = 0
        while off < bytes.count {
            off += try SystemCall.retrying { Glibc.send(socket, bytes.baseAddress.map { $0 + off }, bytes.count - off, Int32(MSG_NOSIGNAL)) }
        }
    }

    /// One `recv(2)` on a socket: bytes received, 0 when the peer closed it
    /// (`EAGAIN` when a receive timeout passed).
    public static func receive(_ socket: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try SystemCall.retrying { recv(socket, buffer.baseAddress, buffer.count, 0) }
    }
}
