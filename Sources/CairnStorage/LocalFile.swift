import CairnSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads and writes of local files: ranges of a local store's objects, whole staged files.
enum LocalFile {
    /// `length` bytes from `offset`; fewer when the file ends first. Store
    /// errors (`notFound`, `io`, …) on failure.
    static func read(_ path: String, offset: UInt64, length: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LocalStore.error(path) }
        defer { close(fd) }
        return try read(fd: fd, path: path, offset: offset, length: length)
    }

    /// The whole file; an error if it shrinks while it is read.
    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LocalStore.error(path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw LocalStore.error(path) }
        let bytes = try read(fd: fd, path: path, offset: 0, length: Int(st.st_size))
        guard bytes.count == Int(st.st_size) else { throw StorageError.io(path, "file shrank while it was read") }
        return bytes
    }

    /// Writes all of `bytes` to `fd`; errors name `path`.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        do { try FileDescriptorIO.writeAll(fd, bytes) } catch { throw LocalStore.error(path, Errno.code(of: error)) }
    }

    static func read(fd: Int32, path: String, offset: UInt64, length: Int) throws -> [UInt8] {
        let pool = ByteBufferPool.shared
        if length >= pool.minimumCapacity {
            // A large read (a span of a pack that a restore reads): into a buffer the pool
            // kept, whose pages are mapped already, instead of a fresh mapping whose every
            // page the kernel faults in and zeroes. Zeroed first (an array cannot grow
            // uninitialised), then cut to what pread filled.
            var bytes = pool.take(capacity: length)
            bytes.append(contentsOf: repeatElement(0, count: length))
            let got = try bytes.withUnsafeMutableBytes { b in
                do { return try FileDescriptorIO.preadFull(fd, into: b, at: offset) } catch {
                    throw LocalStore.error(path, Errno.code(of: error))
                }
            }
            bytes.removeLast(length - got)
            return bytes
        }
        // Uninitialised: only the bytes pread filled are counted (a short file yields a short array).
        return try [UInt8](unsafeUninitializedCapacity: length) { o, got in
            do { got = try FileDescriptorIO.preadFull(fd, into: UnsafeMutableRawBufferPointer(o), at: offset) } catch {
                got = 0
                throw LocalStore.error(path, Errno.code(of: error))
            }
        }
    }
}
