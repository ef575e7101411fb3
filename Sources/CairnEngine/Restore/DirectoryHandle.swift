import CairnFormat
import CairnRepository
import CLinuxShims
import CSysXattr
#if canImport(Glibc)
import Glibc
#endif

/// A directory open by descriptor: everything a restore or an extraction
/// writes goes through one. Entries are created, opened and replaced relative
/// to the descriptor, and no call follows a symbolic link in the target: a link
/// the snapshot or the archive planted (or one already there) is replaced or
/// refused, never traversed.
///
/// What is found where an entry goes:
/// - a directory is wanted: an existing directory is used; a symbolic link,
///   file or anything else is removed and a directory made (reported);
/// - a file or symbolic link is wanted: an existing file or link is replaced
///   atomically (rename over it; a symbolic link's replacement is reported); a
///   directory is refused (the error says so) and left as it is.
public final class DirectoryHandle: @unchecked Sendable {
    /// The open descriptor (O_RDONLY | O_DIRECTORY), closed with the handle.
    public let fd: Int32
    public let device: UInt64
    public let inode: UInt64
    /// Made by this process (`subdirectory`), owned by it and closed to
    /// everyone else (no group or other permission): no one but this process
    /// (or root) can add, rename or remove an entry in it while its mode stays so.
    let privateToProcess: Bool

    /// - Parameter made: this process just created the directory (mkdirat succeeded).
    init(adopting fd: Int32, made: Bool = false) throws {
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw CairnError.io("cannot inspect a directory: \(String(cString: strerror(e)))")
        }
        self.fd = fd
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        // Checked on the directory as opened: one swapped in after the mkdirat is not ours.
        privateToProcess = made && st.st_uid == geteuid() && (st.st_mode & 0o077) == 0
    }

    deinit { close(fd) }

    /// Opens the directory at `path`, creating it and missing parents. Links in
    /// this path are followed: the operator chose it.
    public static func openTarget(_ path: String) throws -> DirectoryHandle {
        try FileSystem.makeDirectories(path)
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CairnError.io("cannot open \(path): \(FileMetadata.errorText())") }
        return try DirectoryHandle(adopting: fd)
    }

    /// What `name` is here (not following it), or nil when there is nothing.
    public func entry(_ name: [UInt8]) -> stat? {
        var st = stat()
        return name.withCName { fstatat(fd, $0, &st, AT_SYMLINK_NOFOLLOW) } == 0 ? st : nil
    }

    /// Opens the existing subdirectory `name` without following a link.
    public func openSubdirectory(_ name: [UInt8], display: String) throws -> DirectoryHandle {
        let sub = name.withCName { openat(fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        guard sub >= 0 else { throw CairnError.io("cannot open the directory \(display): \(Self.reason(errno))") }
        return try DirectoryHandle(adopting: sub)
    }

    /// Opens the subdirectory `name`, made (mode 0700) when missing. Anything
    /// but a directory in its place is removed first (the second value says
    /// what was replaced), or with `replacing` false refused: an archive's own
    /// link is never written through.
    public func subdirectory(_ name: [UInt8], display: String, replacing: Bool = true) throws -> (DirectoryHandle, replaced: String?) {
        var replaced: String? = nil
        for attempt in 0..<3 {
            let made = name.withCName({ mkdirat(fd, $0, 0o700) }) == 0
            if !made && errno != EEXIST {
                throw CairnError.io("cannot create the directory \(display): \(FileMetadata.errorText())")
            }
            let sub = name.withCName { openat(fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
            if sub >= 0 { return (try DirectoryHandle(adopting: sub, made: made), replaced) }
            guard errno == ELOOP || errno == ENOTDIR, attempt < 2, let st = entry(name), (st.st_mode & S_IFMT) != S_IFDIR else {
                throw CairnError.io("cannot open the directory \(display): \(Self.reason(errno))")
            }
            guard replacing else {
                throw CairnError.io("\(display) is a \(Self.kindName(st)), not a directory: nothing is written through it (refused)")
            }
            // A link (never followed) or a file where the snapshot has a directory.
            guard name.withCName({ unlinkat(fd, $0, 0) }) == 0 || errno == ENOENT else {
                throw CairnError.io("cannot replace the \(Self.kindName(st)) at \(display) with a directory: \(FileMetadata.errorText())")
            }
            replaced = "\(display): replaced the \(Self.kindName(st)) that was there with the snapshot's directory"
        }
        throw CairnError.io("cannot create the directory \(display): it keeps being replaced")
    }

    /// The parent directory (through ".."), which must be `expected`: a
    /// directory moved while the restore runs is an error, not a detour.
    func parent(expected: (device: UInt64, inode: UInt64), display: String) throws -> DirectoryHandle {
        let up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard up >= 0 else { throw CairnError.io("cannot reopen the directory \(display): \(Self.reason(errno))") }
        let handle = try DirectoryHandle(adopting: up)
        guard handle.device == expected.device, handle.inode == expected.inode else {
            throw CairnError.io("the directory \(display) was moved while the restore ran")
        }
        return handle
    }

    // MARK: files

    /// A file being written: unnamed (O_TMPFILE) where the file system allows,
    /// else under a random name made with O_EXCL | O_NOFOLLOW, so it can never
    /// be an existing file or a link. `commit` gives it its name. In a
    /// directory private to this process, created under its final name instead.
    public struct NewFile: Sendable {
        public let fd: Int32
        /// The temporary name, when the file system has no unnamed files.
        let temporaryName: [UInt8]?
        /// The final name it was created under (`newFile(named:)`), already in place.
        var finalName: [UInt8]? = nil
    }

    /// False once the file system refused an unnamed file (then every file gets a random temporary name).
    nonisolated(unsafe) static var unnamedFiles = true

    /// Creates a file to fill, not yet visible under any name: unnamed with
    /// mode `unnamedMode` (less the umask; nothing can open an unnamed file,
    /// and a mode already right saves a `fchmod`), else named, mode 0600.
    ///
    /// With `named`, in a directory this process made and no one else can
    /// write to (`privateToProcess`), the file is created under that final name
    /// (O_CREAT | O_EXCL | O_NOFOLLOW, mode `unnamedMode`): nothing but this
    /// process can see or replace it there, and one system call (the creation)
    /// does what an unnamed file and its `linkat` do in two. A tree restore
    /// marks its target incomplete until it ends (`RestoreMarker`), so a file
    /// cut short by a kill is recognisable as the unnamed way's absence is.
    /// A name already taken falls back to the unnamed way (and `commit`'s
    /// replacement).
    public func newFile(display: String, unnamedMode: UInt32 = 0o600, named: [UInt8]? = nil) throws -> NewFile {
        if privateToProcess, let named {
            let f = named.withCName { openat(fd, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_t(unnamedMode & 0o777)) }
            if f >= 0 { return NewFile(fd: f, temporaryName: nil, finalName: named) }
            guard errno == EEXIST else { throw CairnError.io("cannot create \(display): \(FileMetadata.errorText())") }
        }
        if Self.unnamedFiles {
            let f = cairn_open_tmpfile(fd, mode_t(unnamedMode & 0o777))
            if f >= 0 { return NewFile(fd: f, temporaryName: nil) }
            // EOPNOTSUPP/EISDIR/EINVAL: no O_TMPFILE on this file system or kernel.
            guard errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL || errno == ENOSYS else {
                throw CairnError.io("cannot create \(display): \(FileMetadata.errorText())")
            }
            Self.unnamedFiles = false
        }
        for _ in 0..<16 {
            let name = Self.temporaryName()
            let f = name.withCName { openat(fd, $0, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
            if f >= 0 { return NewFile(fd: f, temporaryName: name) }
            guard errno == EEXIST else { throw CairnError.io("cannot create \(display): \(FileMetadata.errorText())") }
        }
        throw CairnError.io("cannot create \(display): every temporary name tried exists")
    }

    /// Closes a file that will not be committed and removes its temporary name
    /// (or the final name it was created under: in a directory private to
    /// this process that name is still this file's).
    public func discard(_ file: NewFile) {
        close(file.fd)
        if let t = file.temporaryName ?? file.finalName { _ = t.withCName { unlinkat(fd, $0, 0) } }
    }

    /// Names a filled file `name`: a file or link of that name is replaced
    /// atomically, a directory is refused. Returns what was replaced when it
    /// was not a file. The caller closes the descriptor either way; on error no
    /// temporary name is left.
    @discardableResult
    public func commit(_ file: NewFile, as name: [UInt8], display: String) throws -> String? {
        if let created = file.finalName, created == name { return nil }
        if let temporary = file.temporaryName {
            do { return try replace(name, with: temporary, display: display, what: "file") } catch {
                _ = temporary.withCName { unlinkat(fd, $0, 0) }
                throw error
            }
        }
        if name.withCName({ cairn_link_descriptor(file.fd, fd, $0) }) == 0 { return nil }
        guard errno == EEXIST else { throw CairnError.io("cannot create \(display): \(FileMetadata.errorText())") }
        // Something is there: link under a random name, then rename over it.
        let temporary = try linkTemporary(display: display) { cairn_link_descriptor(file.fd, fd, $0) }
        do { return try replace(name, with: temporary, display: display, what: "file") } catch {
            _ = temporary.withCName { unlinkat(fd, $0, 0) }
            throw error
        }
    }

    /// Makes the symbolic link `name` → `target`. `prepare` sets its metadata
    /// (relative to this directory, under the name it gets) before it replaces
    /// anything already there.
    @discardableResult
    public func makeSymlink(_ name: [UInt8], target: [UInt8], display: String, prepare: (_ name: [UInt8]) -> Void) throws -> String? {
        let made = target.withCName { t in name.withCName { symlinkat(t, fd, $0) } }
        if made == 0 { prepare(name); return nil }
        guard errno == EEXIST else { throw CairnError.io("cannot create the symbolic link \(display): \(FileMetadata.errorText())") }
        let temporary = try linkTemporary(display: display) { n in target.withCName { symlinkat($0, fd, n) } }
        prepare(temporary)
        do { return try replace(name, with: temporary, display: display, what: "symbolic link") } catch {
            _ = temporary.withCName { unlinkat(fd, $0, 0) }
            throw error
        }
    }

    /// Makes `name` a hard link to the file `source` of `directory`, which must
    /// be the file `expected` (device, inode) and is never followed. Returns
    /// false when the link cannot be made (too many links, another file
    /// system, the source changed): the caller then writes a copy.
    public func hardLink(_ name: [UInt8], to source: [UInt8], in directory: DirectoryHandle,
                         expected: (device: UInt64, inode: UInt64), display: String) throws -> (linked: Bool, replaced: String?) {
        guard let st = directory.entry(source), (st.st_mode & S_IFMT) == S_IFREG,
              UInt64(st.st_dev) == expected.device, UInt64(st.st_ino) == expected.inode else { return (false, nil) }
        let linked = source.withCName { s in name.withCName { linkat(directory.fd, s, fd, $0, 0) } }
        if linked == 0 { return (true, nil) }
        guard errno == EEXIST else { return (false, nil) }
        let temporary: [UInt8]
        do {
            temporary = try linkTemporary(display: display) { n in source.withCName { linkat(directory.fd, $0, fd, n, 0) } }
        } catch { return (false, nil) }
        do { return (true, try replace(name, with: temporary, display: display, what: "file")) } catch {
            _ = temporary.withCName { unlinkat(fd, $0, 0) }
            throw error
        }
    }

    /// Creates an entry under a fresh random name with `make` (which fails with EEXIST when the name is taken).
    func linkTemporary(display: String, _ make: (UnsafePointer<CChar>) -> Int32) throws -> [UInt8] {
        for _ in 0..<16 {
            let name = Self.temporaryName()
            if name.withCName(make) == 0 { return name }
            guard errno == EEXIST else { throw CairnError.io("cannot create \(display): \(FileMetadata.errorText())") }
        }
        throw CairnError.io("cannot create \(display): every temporary name tried exists")
    }

    /// Renames `temporary` over `name`, refusing a directory in its place.
    func replace(_ name: [UInt8], with temporary: [UInt8], display: String, what: String) throws -> String? {
        let before = entry(name)
        if let before, (before.st_mode & S_IFMT) == S_IFDIR { throw Self.refused(display, what) }
        guard temporary.withCName({ t in name.withCName { renameat(fd, t, fd, $0) } }) == 0 else {
            if errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST { throw Self.refused(display, what) }
            throw CairnError.io("cannot create \(display): \(FileMetadata.errorText())")
        }
        guard let before, (before.st_mode & S_IFMT) != S_IFREG else { return nil }
        return "\(display): replaced the \(Self.kindName(before)) that was there with the snapshot's \(what)"
    }

    private static func refused(_ display: String, _ what: String) -> CairnError {
        CairnError.io("cannot restore the \(what) \(display): a directory of that name is in the target (not replaced: move it away and restore again)")
    }

    /// ".cairn-" and 16 random hex digits: a name nothing can predict.
    static func temporaryName() -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        let hex = String(g.next() as UInt64, radix: 16)
        return Array((".cairn-" + String(repeating: "0", count: 16 - hex.count) + hex + ".tmp").utf8)
    }

    static func kindName(_ st: stat) -> String {
        switch st.st_mode & S_IFMT {
        case S_IFLNK: return "symbolic link"
        case S_IFREG: return "file"
        case S_IFDIR: return "directory"
        default: return "special file"
        }
    }

    /// errno's text; a link where a directory was expected is said plainly.
    static func reason(_ code: Int32) -> String {
        code == ELOOP ? "it is a symbolic link (not followed)" : String(cString: strerror(code))
    }

    // MARK: metadata

    /// Sets owner (as root), mode, extended attributes and times on an open
    /// file or directory; returns what could not be set. With `current` (the
    /// descriptor's `fstat`), an owner or mode it already has is not set
    /// again: each change is a journal transaction, and a restore of many
    /// small files spends its time in them.
    public static func setMetadata(fd: Int32, uid: UInt32, gid: UInt32, setOwner: Bool, mode: UInt32,
                                   xattrs: [ExtendedAttribute], mtime: timespec, current: stat? = nil) -> [String] {
        var failures: [String] = []
        var chowned = false
        if setOwner, current.map({ $0.st_uid != uid || $0.st_gid != gid }) ?? true {
            chowned = true
            if fchown(fd, uid, gid) != 0 { failures.append("cannot set owner: \(FileMetadata.errorText())") }
        }
        // A change of owner clears set-id bits: the mode is set again after one.
        if chowned || current.map({ UInt32($0.st_mode) & 0o7777 != mode & 0o7777 }) ?? true,
           fchmod(fd, mode_t(mode & 0o7777)) != 0 {
            failures.append("cannot set mode: \(FileMetadata.errorText())")
        }
        for x in xattrs {
            let ok = x.value.withUnsafeBytes { v in x.name.withCName { fsetxattr(fd, $0, v.baseAddress, v.count, 0) } }
            if ok != 0 { failures.append("cannot set extended attribute \(String(decoding: x.name, as: UTF8.self)): \(FileMetadata.errorText())") }
        }
        var times = [mtime, mtime]
        if futimens(fd, &times) != 0 { failures.append("cannot set times: \(FileMetadata.errorText())") }
        return failures
    }

    /// The same for the symbolic link `name` of this directory, never following it (links have no mode).
    public func setSymlinkMetadata(_ name: [UInt8], uid: UInt32, gid: UInt32, setOwner: Bool,
                                   xattrs: [ExtendedAttribute], mtime: timespec) -> [String] {
        var failures: [String] = []
        name.withCName { n in
            if setOwner, fchownat(fd, n, uid, gid, AT_SYMLINK_NOFOLLOW) != 0 { failures.append("cannot set owner: \(FileMetadata.errorText())") }
            for x in xattrs {
                let ok = x.value.withUnsafeBytes { v in x.name.withCName { cairn_lsetxattr_at(fd, n, $0, v.baseAddress, v.count) } }
                if ok != 0 { failures.append("cannot set extended attribute \(String(decoding: x.name, as: UTF8.self)): \(FileMetadata.errorText())") }
            }
            var times = [mtime, mtime]
            if utimensat(fd, n, &times, AT_SYMLINK_NOFOLLOW) != 0 { failures.append("cannot set times: \(FileMetadata.errorText())") }
        }
        return failures
    }

    /// Writes back the whole file system this directory is on (syncfs).
    public func syncFileSystem() throws {
        guard cairn_syncfs(fd) == 0 else { throw CairnError.io("cannot sync the restored files: \(FileMetadata.errorText())") }
    }
}

extension Array where Element == UInt8 {
    /// Calls `body` with these bytes as a NUL-terminated C string.
    func withCName<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        try (self + [0]).withUnsafeBufferPointer { buf in
            try buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { try body($0) }
        }
    }
}
