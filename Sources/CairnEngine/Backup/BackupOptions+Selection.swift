import CairnFormat
import CairnSystem
#if canImport(Glibc)
import Glibc
#endif

extension BackupOptions {
    /// The first bytes of a cache directory's CACHEDIR.TAG (https://bford.info/cachedir/).
    static let cacheTagSignature = Array("Signature: 8a477f597d28d172789f06886806bc55".utf8)

    /// True when the entry below a backed-up argument is left out: another file
    /// system (`oneFileSystem`), an `exclude` pattern, a cache directory
    /// (`excludeCaches`) or a file larger than `excludeLargerThan`.
    /// - Parameters:
    ///   - path: the entry's path.
    ///   - relative: its path below the argument, for `exclude`.
    ///   - topDevice: the argument's device, for `oneFileSystem`.
    func leavesOut(_ path: BytePath, relative: [UInt8], st: stat, topDevice: UInt64) -> Bool {
        let isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
        if oneFileSystem, isDirectory, UInt64(st.st_dev) != topDevice { return true }
        if let exclude, exclude(String(decoding: relative, as: UTF8.self), isDirectory) { return true }
        if let limit = excludeLargerThan, (st.st_mode & S_IFMT) == S_IFREG, UInt64(max(0, st.st_size)) > limit { return true }
        if excludeCaches, isDirectory, Self.isCacheDirectory(path) { return true }
        return false
    }

    /// A directory holding a CACHEDIR.TAG file that starts with the signature
    /// (restic's --exclude-caches: the whole directory is left out).
    static func isCacheDirectory(_ dir: BytePath) -> Bool {
        let fd = dir.appending(Array("CACHEDIR.TAG".utf8)).withCString { open($0, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) }
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: cacheTagSignature.count)
        let got = (try? buffer.withUnsafeMutableBytes { try FileDescriptorIO.readFull(fd, into: $0) }) ?? 0
        return got == buffer.count && buffer == cacheTagSignature
    }
}
