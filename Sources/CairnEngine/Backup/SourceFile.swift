import CairnSystem
#if canImport(Glibc)
import Glibc
#endif

/// A regular file opened for a backup to read, with the checks that make its
/// copy trustworthy: the file opened is the regular file the scan saw (a FIFO,
/// socket, device or directory swapped in is never read: opening a FIFO would
/// block forever), and nothing wrote to it while it was read.
struct SourceFile {
    let fd: Int32
    /// What fstat said right before reading; the snapshot records these fields.
    private(set) var before: stat

    enum Opened {
        /// The file, open, its descriptor back in blocking mode.
        case file(SourceFile)
        /// No longer a regular file: what is at the path now ("a FIFO", "a socket", ...). Not read.
        case replaced(String)
        /// Deleted after the scan (like a file gone between readdir and lstat: not an error).
        case gone
        /// Could not be opened; errno's text.
        case failed(String)
    }

    /// Opens `path` without following a symlink and without blocking (a FIFO
    /// with no writer would block `open` forever), then checks what it opened.
    static func open(_ path: BytePath, scanned: stat) -> Opened {
        let fd = path.withCString { Glibc.open($0, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY) }
        guard fd >= 0 else {
            let err = errno
            if err == ENOENT { return .gone }
            // ELOOP (a symlink now), ENXIO (a socket now), ...: say what is there if it is not a regular file.
            if let now = FileMetadata.lstat(path), now.st_mode & S_IFMT != S_IFREG { return .replaced(describeType(now)) }
            return .failed(String(cString: strerror(err)))
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let text = String(cString: strerror(errno))
            Glibc.close(fd)
            return .failed(text)
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(fd)
            return .replaced(describeType(st))
        }
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0 else {
            let text = String(cString: strerror(errno))
            Glibc.close(fd)
            return .failed(text)
        }
        return .file(SourceFile(fd: fd, before: st))
    }

    /// Whether `st` is the file the scan saw (same device and inode), as
    /// opposed to another regular file renamed over it.
    static func isSameFile(_ st: stat, as scanned: stat) -> Bool {
        st.st_dev == scanned.st_dev && st.st_ino == scanned.st_ino
    }

    /// "a FIFO", "a socket", ... for messages.
    static func describeType(_ st: stat) -> String {
        switch st.st_mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a directory"
        case S_IFLNK: return "a symbolic link"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        default: return "a file of unknown type"
        }
    }

    func close() { _ = Glibc.close(fd) }

    // MARK: changes while reading

    /// Makes a later write detectable before reading starts; false when the
    /// file kept changing for as long as that took.
    ///
    /// Every write sets the ctime from the kernel's coarse clock (a tick of 1-10
    /// ms, or a whole second on file systems that keep seconds only). A file
    /// whose ctime is still the current tick can be written again within that
    /// tick without any timestamp moving, so a torn copy would go unnoticed
    /// (git's "racily clean" problem). Such a file, and only such a file, is
    /// read once the tick has passed: then any write during the read moves
    /// the ctime. It costs a few milliseconds for files written just before
    /// they were read.
    mutating func settle() -> Bool {
        var waited: Int64 = 0
        while let wait = Self.racyWait(ctimeSeconds: Int64(before.st_ctim.tv_sec), ctimeNanos: Int64(before.st_ctim.tv_nsec), now: Self.coarseNow()) {
            // A few ticks (or one second of a seconds-only file system), then
            // the file counts as being written: reading it gives a torn copy anyway.
            let limit: Int64 = before.st_ctim.tv_nsec == 0 ? 1_200_000_000 : 50_000_000
            guard waited + wait <= limit else { return false }
            SystemCall.sleep(nanoseconds: wait)
            waited += wait
            var st = stat()
            guard fstat(fd, &st) == 0 else { return true }
            before = st
        }
        return true
    }

    /// How long to wait (ns) until the clock that stamps ctimes has moved past
    /// this ctime, or nil when it has already (`now`: CLOCK_REALTIME_COARSE).
    /// A ctime with no nanoseconds may come from a file system that keeps
    /// seconds only: the whole second must pass. A ctime more than two seconds
    /// ahead (a clock stepped back) cannot be waited out: nil.
    static func racyWait(ctimeSeconds: Int64, ctimeNanos: Int64, now: (seconds: Int64, nanos: Int64)) -> Int64? {
        let nowNanos = now.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let stamp = ctimeSeconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nowNanos.overflow, !stamp.overflow else { return nil }
        let ctime = stamp.partialValue &+ ctimeNanos, current = nowNanos.partialValue &+ now.nanos
        // The first instant whose writes get a later stamp than this ctime.
        let next = ctimeNanos == 0 ? stamp.partialValue &+ 1_000_000_000 : ctime &+ 1
        guard next > current, ctime <= current &+ 2_000_000_000 else { return nil }
        // Sleep past the boundary by a little, in slices of at most 10 ms so a
        // tick of the coarse clock is not overslept by much.
        return min(next - current + 200_000, ctimeNanos == 0 ? next - current + 1_000_000 : 10_000_000)
    }

    private static func coarseNow() -> (seconds: Int64, nanos: Int64) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &ts)
        return (Int64(ts.tv_sec), Int64(ts.tv_nsec))
    }

    /// What differs between the stat taken before reading and one taken now
    /// ("size", "mtime", "ctime"; nanosecond fields included), or nil.
    func changesSinceOpened(bytesRead: UInt64) -> [String]? {
        var after = stat()
        guard fstat(fd, &after) == 0 else { return nil }
        var what: [String] = []
        if after.st_size != before.st_size || bytesRead != UInt64(before.st_size) { what.append("size") }
        if after.st_mtim.tv_sec != before.st_mtim.tv_sec || after.st_mtim.tv_nsec != before.st_mtim.tv_nsec { what.append("mtime") }
        if after.st_ctim.tv_sec != before.st_ctim.tv_sec || after.st_ctim.tv_nsec != before.st_ctim.tv_nsec { what.append("ctime") }
        return what.isEmpty ? nil : what
    }
}
