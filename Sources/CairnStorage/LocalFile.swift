#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads for staged objects.
enum LocalFile {
    /// The file's bytes; store errors (`notFound`, `io`) on failure.
    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LocalStore.error(path) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw LocalStore.error(path) }
        let length = Int(st.st_size)
        var out = [UInt8](repeating: 0, count: length)
        var got = 0
        try out.withUnsafeMutableBytes { o in
            while got < length {
                let n = pread(fd, o.baseAddress! + got, length - got, off_t(got))
                if n < 0 { if errno == EINTR { continue }; throw LocalStore.error(path) }
                if n == 0 { throw StorageError.io(path, "file shrank while it was read") }
                got += n
            }
        }
        return out
    }
}
