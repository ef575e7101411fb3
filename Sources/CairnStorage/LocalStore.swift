#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A store in a directory on local disk.
///
/// Writes are crash-safe: the bytes go to `tmp/` under a random name, are
/// fsynced, renamed into place, and the directory is fsynced, so a reader (or
/// a crash at any instant) sees the whole object or none of it. Leftover
/// temp files are harmless and removed by `removeStaleTemporaryFiles()`.
///
/// What it creates gets `modes`: private, or shared with the repository
/// directory's group when the repository is group-accessible (`FileModes`).
public struct LocalStore: ObjectStore {
    public let root: String
    public var location: String { root }
    /// A renamed file is in every `readdir` that starts after the rename returned.
    public var listsEveryCompletedPut: Bool { true }
    /// The permissions of new files and directories, read from the repository when the store is made.
    public let modes: FileModes

    public init(root: String) {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r
        modes = FileModes.forRepository(root: r)
    }

    private func full(_ key: ObjectKey) -> String { "\(root)/\(key.path)" }

    static func error(_ path: String, _ code: Int32 = errno) -> StorageError {
        switch code {
        case ENOENT: return .notFound(path)
        case ENOSPC, EDQUOT: return .diskFull(path)
        case EACCES, EPERM, EROFS: return .permissionDenied(path)
        default: return .io(path, String(cString: strerror(code)))
        }
    }

    /// Creates the directory layout (idempotent).
    public func createLayout() throws {
        try modes.makeDirectory(root)
        for d in ["keys", "data", "index", "snapshots", "locks", "forgotten", "tmp"] { try modes.makeDirectory("\(root)/\(d)") }
    }

    public func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws {
        try await BlockingIO.run { [self] in try putSync(key, bytes) }
    }

    public func putSync(_ key: ObjectKey, _ bytes: [UInt8]) throws {
        let final = full(key)
        let dir = String(final[..<final.lastIndex(of: "/")!])
        try Interruption.shared.checkNotInterrupted()
        try modes.makeDirectory("\(root)/tmp")
        // forgotten/ is younger than the layout of older repositories: made on first use.
        if key.namespace == .data || key.namespace == .forgotten { try modes.makeDirectory(dir) }
        let tmp = "\(root)/tmp/" + TemporaryFileName.make(prefix: key.name.isEmpty ? "config" : String(key.name.prefix(16)))
        let token = Interruption.shared.register("temporary file", .unlink(tmp))
        defer { Interruption.shared.unregister(token) }
        let fd = try modes.createFile(tmp)
        if Interruption.shared.signal != nil { close(fd); unlink(tmp); try Interruption.shared.checkNotInterrupted() }
        var ok = false
        defer { if !ok { close(fd); unlink(tmp) } }
        try bytes.withUnsafeBytes { try LocalFile.writeAll(fd, $0, path: final) }
        guard fsync(fd) == 0 else { throw Self.error(final) }
        ok = true
        close(fd)
        guard rename(tmp, final) == 0 else { let e = errno; unlink(tmp); throw Self.error(final, e) }
        try Self.syncDirectory(dir)
    }

    /// The store's own `tmp/`: a staged file is renamed into place on the same file system.
    public var stagingDirectory: String? { "\(root)/tmp" }
    /// Staged files become objects: they get the store's modes.
    public var stagingModes: FileModes { modes }

    /// The file holding `key`.
    public func localPath(_ key: ObjectKey) -> String? { full(key) }

    /// Moves a file staged under `tmp/` into place: fsync, rename, fsync the
    /// directory (the same crash safety as `put`, without copying the bytes).
    public func putFile(_ key: ObjectKey, path: String, coldEligible: Bool) async throws {
        guard path.hasPrefix("\(root)/tmp/") else {
            defer { unlink(path) }
            try await put(key, try await BlockingIO.run { try LocalFile.read(path) })
            return
        }
        try await BlockingIO.run { [self] in
            let final = full(key)
            let dir = String(final[..<final.lastIndex(of: "/")!])
            var moved = false
            defer { if !moved { unlink(path) } }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Self.error(path) }
            let synced = fsync(fd) == 0
            let code = errno
            close(fd)
            guard synced else { throw Self.error(final, code) }
            if key.namespace == .data { try modes.makeDirectory(dir) }
            guard rename(path, final) == 0 else {
                // tmp/ mounted apart from data/ (EXDEV): copy the bytes the ordinary way.
                guard errno == EXDEV else { throw Self.error(final) }
                try putSync(key, try LocalFile.read(path))
                return
            }
            moved = true
            try Self.syncDirectory(dir)
        }
    }

    static func syncDirectory(_ dir: String) throws {
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { throw error(dir) }
        defer { close(dfd) }
        if fsync(dfd) != 0 && errno != EINVAL { throw error(dir) }
    }

    public func get(_ key: ObjectKey) async throws -> [UInt8] {
        guard let s = try await size(key) else { throw StorageError.notFound(key.path) }
        return try read(key, offset: 0, length: Int(s))
    }

    public func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] {
        try read(key, offset: offset, length: length)
    }

    /// Synchronous ranged read with pread.
    public func read(_ key: ObjectKey, offset: UInt64, length: Int) throws -> [UInt8] {
        try LocalFile.read(full(key), offset: offset, length: length)
    }

    /// One open: the size comes from the open file (`fstat`), so no `stat` of the path goes first.
    public func readWhole(_ key: ObjectKey, limit: UInt64) async throws -> BoundedRead {
        let path = full(key)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw StorageError.notFound(key.path) }
            throw Self.error(path)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Self.error(path) }
        let size = UInt64(st.st_size)
        guard size <= limit else { return .tooLarge(size) }
        let bytes = try LocalFile.read(fd: fd, path: path, offset: 0, length: Int(size))
        return bytes.count == Int(size) ? .bytes(bytes) : .changed
    }

    public func size(_ key: ObjectKey) async throws -> UInt64? {
        var st = stat()
        if stat(full(key), &st) != 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw Self.error(full(key))
        }
        return UInt64(st.st_size)
    }

    public func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] {
        switch namespace {
        case .config:
            return try await size(.config) == nil ? [] : [.config]
        case .data:
            var out: [ObjectKey] = []
            for sub in try Self.entries("\(root)/data") where sub.count == 2 {
                for name in try Self.entries("\(root)/data/\(sub)") where name.count == 64 { out.append(ObjectKey(.data, name)) }
            }
            return out
        default:
            return try Self.entries("\(root)/\(namespace.rawValue)").map { ObjectKey(namespace, $0) }
        }
    }

    /// The names in `dir` (none starting with "."); a missing directory is empty.
    static func entries(_ dir: String) throws -> [String] {
        try DirectoryReader.stringNames(dir).filter { !$0.hasPrefix(".") }
    }

    public func delete(_ key: ObjectKey) async throws {
        if unlink(full(key)) != 0 && errno != ENOENT { throw Self.error(full(key)) }
    }

    /// Removes temp files left by writers that were killed: at once when the
    /// name proves its writer is gone (a process of this host that no longer
    /// runs), else once not modified for `age` seconds.
    public func removeStaleTemporaryFiles(olderThan age: Int = 3600) {
        Self.removeStaleFiles(in: "\(root)/tmp", olderThan: age)
    }

    /// Removes the files in `directory` whose writer is provably gone
    /// (`TemporaryFileName.writerIsGone`), and those not modified for `age`
    /// seconds (a live writer touches its file at least every 256 KiB it
    /// appends). Returns how many files and bytes were removed. Files this
    /// user may not remove are left alone.
    @discardableResult
    public static func removeStaleFiles(in directory: String, olderThan age: Int = 3600) -> (files: Int, bytes: UInt64) {
        let now = time(nil)
        var removed = (files: 0, bytes: UInt64(0))
        for name in (try? entries(directory)) ?? [] {
            var st = stat()
            let p = "\(directory)/\(name)"
            guard lstat(p, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            if TemporaryFileName.writerIsGone(name) || now - st.st_mtim.tv_sec > age, unlink(p) == 0 {
                removed.files += 1
                removed.bytes += UInt64(st.st_size)
            }
        }
        return removed
    }
}
