import CairnCrypto
import CairnFormat
import CairnStorage
import CairnSystem
#if canImport(Glibc)
import Glibc
#endif

/// The local directory `wal-fetch` serves WAL segments from during a recovery, filled ahead of
/// PostgreSQL's replay by one background read-ahead fetcher (`WALReadAhead`), as pgBackRest's
/// `archive-get --archive-async` spool.
///
/// Layout (the directory is mode 0700 and owned by the cluster's user; anything else is refused):
/// - `NAME.SHA256`: a complete segment, named with the SHA-256 its snapshot recorded. It is served
///   only if its content still hashes to that name, so a damaged or truncated copy is never handed
///   to PostgreSQL (it falls back to the repository).
/// - `.NAME.tmp.PID`: a segment being written; never served, removed when no fetcher runs.
/// - `identity`: the repository and WAL name the segments come from; a spool of another archive is
///   emptied (under the lock) before use.
/// - `lock`: held (flock) by the running fetcher, with its pid; its window in `window`; `end`: the
///   segment the last fetcher found missing from the archive.
/// - `fetcher.log`: the last fetcher's messages.
public struct WALSpool: Sendable {
    public let path: String

    /// Why a directory cannot be used as the spool.
    public struct Unusable: Error, CustomStringConvertible {
        public let description: String
    }

    /// Opens (creating it, mode 0700) the spool at `path`; throws `Unusable` when it is not a
    /// directory owned by this user with no access for group and others.
    public init(path: String) throws {
        self.path = path
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw Unusable(description: "cannot create the WAL spool \(path): \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard lstat(path, &st) == 0 else {
            throw Unusable(description: "cannot read the WAL spool \(path): \(String(cString: strerror(errno)))")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw Unusable(description: "the WAL spool \(path) is not a directory (a symbolic link or a file)")
        }
        guard st.st_uid == geteuid() else {
            throw Unusable(description: "the WAL spool \(path) belongs to uid \(st.st_uid), not to this user (uid \(geteuid()))")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw Unusable(description: "the WAL spool \(path) is mode 0\(String(st.st_mode & 0o777, radix: 8)): others could change what recovery replays; run 'chmod 700 \(path)'")
        }
    }

    // MARK: entries

    /// A complete spooled segment.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let sha256: String
        public var fileName: String { name + "." + sha256 }
    }

    /// The complete segments in the spool, by name.
    public func entries() -> [Entry] {
        guard let names = try? DirectoryReader.stringNames(path) else { return [] }
        var out: [Entry] = []
        for n in names {
            let u = Array(n.utf8)
            guard u.count == 24 + 1 + 64, u[24] == 46 else { continue }
            let name = String(decoding: u[0..<24], as: UTF8.self), sha = String(decoding: u[25...], as: UTF8.self)
            guard WALFileName(name)?.kind == .segment, sha.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else { continue }
            out.append(Entry(name: name, sha256: sha))
        }
        return out.sorted { $0.name < $1.name }
    }

    /// What `take` did.
    public enum TakeResult: Sendable, Equatable {
        /// The segment was in the spool, hashed to its recorded SHA-256, and is now at the destination.
        case served
        /// Not in the spool.
        case absent
        /// In the spool but damaged (removed; nothing written to the destination).
        case damaged(String)
    }

    /// Moves segment `name` to `destination` if the spool holds it and its content still has the
    /// SHA-256 its snapshot recorded. A copy that fails the check is removed and never served.
    public func take(_ name: String, to destination: String) -> TakeResult {
        guard let entry = entries().first(where: { $0.name == name }) else { return .absent }
        let source = path + "/" + entry.fileName
        // Move first, check second: once moved, nothing else changes the file PostgreSQL will read.
        if rename(source, destination) == 0 {
            let sha = Self.sha256(of: destination)
            guard sha == entry.sha256 else {
                unlink(destination)
                return .damaged("the spooled copy of \(name) has SHA-256 \(sha?.prefix(16) ?? "(unreadable)")…, archived as \(entry.sha256.prefix(16))…; fetching it from the repository")
            }
            return .served
        }
        guard errno == EXDEV else {
            let e = String(cString: strerror(errno))
            unlink(source)
            return .damaged("cannot move \(source) to \(destination): \(e)")
        }
        // The spool is on another file system: copy (checking on the way), then rename.
        let tmp = destination + ".cairn-tmp"
        let sha = Self.copy(source, to: tmp)
        unlink(source)
        guard sha == entry.sha256, rename(tmp, destination) == 0 else {
            unlink(tmp)
            return .damaged("the spooled copy of \(name) has SHA-256 \(sha?.prefix(16) ?? "(unreadable)")…, archived as \(entry.sha256.prefix(16))…; fetching it from the repository")
        }
        return .served
    }

    /// Removes the complete segments PostgreSQL no longer needs (names before `name`), and, when
    /// no fetcher runs, what a killed fetcher left half-written.
    public func removeBefore(_ name: String, includingPartial: Bool) {
        for e in entries() where e.name < name { unlink(path + "/" + e.fileName) }
        guard includingPartial, let names = try? DirectoryReader.stringNames(path) else { return }
        for n in names where n.hasPrefix(".") && n.contains(".tmp") { unlink(path + "/" + n) }
    }

    /// Removes every segment and the window (a spool of another archive, or one nobody reads any more).
    public func removeAll() {
        for e in entries() { unlink(path + "/" + e.fileName) }
        if let names = try? DirectoryReader.stringNames(path) {
            for n in names where n.hasPrefix(".") && n.contains(".tmp") { unlink(path + "/" + n) }
        }
        unlink(path + "/window")
        unlink(path + "/end")
    }

    // MARK: identity

    /// Empties the spool when it holds segments of another archive, and records `identity`
    /// (call with the lock held, so that no fetcher of the other archive writes meanwhile).
    public func adopt(identity: String) {
        let file = path + "/identity"
        if Self.readSmall(file) == identity { return }
        removeAll()
        _ = Self.writeAtomically(file, identity)
    }

    /// True when the spool's segments come from `identity`.
    public func holds(identity: String) -> Bool { Self.readSmall(path + "/identity") == identity }

    // MARK: the fetcher's lock and window

    /// Takes the fetcher lock without waiting; nil when a fetcher holds it. The descriptor (close-on-exec)
    /// keeps the lock until closed, or, handed to a child, until the child exits.
    public func tryLock() -> Int32? {
        let fd = open(path + "/lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return nil }
        guard (try? SystemCall.lockExclusive(fd, wait: false)) == true else { close(fd); return nil }
        return fd
    }

    /// True while a fetcher holds the lock.
    public func fetcherRunning() -> Bool {
        guard let fd = tryLock() else { return true }
        close(fd)
        return false
    }

    /// Records the fetcher's pid in the lock file (whose lock `fd` holds).
    public static func recordFetcher(pid: pid_t, lockFD: Int32) {
        let text = Array("\(pid)\n".utf8)
        _ = ftruncate(lockFD, 0)
        _ = try? text.withUnsafeBytes { try FileDescriptorIO.pwriteAll(lockFD, $0, at: 0) }
    }

    /// The running fetcher's pid, when one holds the lock.
    public func fetcherPID() -> pid_t? {
        guard fetcherRunning(), let text = Self.readSmall(path + "/lock"), let pid = pid_t(text), pid > 1 else { return nil }
        return pid
    }

    /// Stops the running fetcher (SIGKILL: what it was writing is a temporary file, never served) and
    /// waits up to `timeout` seconds for its lock to be released.
    public func stopFetcher(timeout: Double = 5) {
        guard let pid = fetcherPID() else { return }
        kill(pid, SIGKILL)
        var waited = 0.0
        while fetcherRunning() && waited < timeout { usleep(10_000); waited += 0.01 }
    }

    /// The segments the running fetcher will fetch: from `first` to `last` on one timeline.
    public struct Window: Sendable, Equatable {
        public var first: String
        public var last: String
        public init(first: String, last: String) { self.first = first; self.last = last }
        public func contains(_ name: String) -> Bool {
            name.utf8.count == 24 && name.prefix(8) == first.prefix(8) && first <= name && name <= last
        }
        /// True when `name` is a segment of the window's timeline before it.
        public func isAfter(_ name: String) -> Bool {
            name.utf8.count == 24 && name.prefix(8) == first.prefix(8) && name < first
        }
    }

    public func window() -> Window? {
        guard let text = Self.readSmall(path + "/window") else { return nil }
        let parts = text.split(separator: " ").map(String.init)
        guard parts.count == 2 else { return nil }
        return Window(first: parts[0], last: parts[1])
    }

    public func setWindow(_ w: Window?) {
        guard let w else { unlink(path + "/window"); return }
        _ = Self.writeAtomically(path + "/window", w.first + " " + w.last)
    }

    /// The segment a fetcher stopped at because the archive does not hold it (nil: none recorded).
    public func endOfArchive() -> String? { Self.readSmall(path + "/end") }

    public func setEndOfArchive(_ name: String?) {
        guard let name else { unlink(path + "/end"); return }
        _ = Self.writeAtomically(path + "/end", name)
    }

    // MARK: files

    /// SHA-256 of a file's content, nil when it cannot be read. Holes (a spooled segment's zero
    /// tail) are hashed as the zeros they read as, without reading them.
    public static func sha256(of file: String) -> String? {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let size = off_t(st.st_size)
        var hasher = SHA256Hasher()
        // Small buffers: this runs once per segment in a process of its own, and buffers of 1 MiB were
        // fresh mappings (glibc's mmap threshold) faulted in page by page on every call.
        var buf = [UInt8](repeating: 0, count: 64 << 10)
        let zeros = [UInt8](repeating: 0, count: 64 << 10)
        var pos: off_t = 0
        while pos < size {
            // SEEK_DATA (3): the next byte that is not in a hole; past the data: the rest is a hole.
            var data = lseek(fd, pos, 3)
            if data < 0 { guard errno == ENXIO else { return nil }; data = size }
            while pos < data {
                let n = Int(min(off_t(zeros.count), data - pos))
                zeros.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                pos += off_t(n)
            }
            guard pos < size else { break }
            // SEEK_HOLE (4): where this run of data ends.
            let hole = lseek(fd, pos, 4)
            let end = hole < 0 ? size : min(hole, size)
            while pos < end {
                let want = Int(min(off_t(buf.count), end - pos))
                let got = try? buf.withUnsafeMutableBytes { try FileDescriptorIO.preadFull(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<want]), at: UInt64(pos)) }
                guard let n = got, n > 0 else { return nil }
                buf.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                pos += off_t(n)
            }
        }
        return Hex.encode(hasher.finalize())
    }

    /// Copies `source` to a new file `destination` and returns the SHA-256 of what was copied.
    static func copy(_ source: String, to destination: String) -> String? {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { return nil }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else { return nil }
        defer { close(output) }
        var hasher = SHA256Hasher()
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            guard let n = try? buf.withUnsafeMutableBytes({ try FileDescriptorIO.read(input, into: $0) }) else { return nil }
            if n == 0 { break }
            guard (try? buf.withUnsafeBytes({ try FileDescriptorIO.writeAll(output, UnsafeRawBufferPointer(rebasing: $0[0..<n])) })) != nil else { return nil }
            buf.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return Hex.encode(hasher.finalize())
    }

    static func readSmall(_ file: String) -> String? {
        let fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 4096)
        guard let n = try? buf.withUnsafeMutableBytes({ try FileDescriptorIO.readFull(fd, into: $0) }), n > 0 else { return nil }
        var s = String(decoding: buf[0..<n], as: UTF8.self)
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }

    static func writeAtomically(_ file: String, _ text: String) -> Bool {
        let tmp = file + ".tmp.\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return false }
        let bytes = Array((text + "\n").utf8)
        let ok = (try? bytes.withUnsafeBytes { try FileDescriptorIO.writeAll(fd, $0) }) != nil
        close(fd)
        guard ok, rename(tmp, file) == 0 else { unlink(tmp); return false }
        return true
    }
}
