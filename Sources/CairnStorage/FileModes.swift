#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The permissions a local store gives what it creates.
///
/// restic's convention (since 0.14): a repository whose `config` file is
/// group-readable is group-accessible, and new files and directories get the
/// group's access too. Cairn goes one step further so that a repository
/// shared by root (backups) and postgres (`archive_command`) stays usable by
/// both whatever their umask: the modes are set explicitly after creation,
/// and new entries get the repository directory's group.
///
/// - `config` group-writable, or the repository directory setgid and
///   group-writable: group read/write (files 0660, directories 0770).
/// - `config` group-readable only: group read (files 0640, directories 0750).
/// - Otherwise private to the owner (0600, 0700).
public struct FileModes: Sendable, Equatable, CustomStringConvertible {
    /// Mode of new files (before the umask, which is overridden for shared stores).
    public let file: mode_t
    /// Mode of new directories.
    public let directory: mode_t
    /// The group new entries get (the repository directory's); nil for a private store.
    public let group: gid_t?

    public init(file: mode_t, directory: mode_t, group: gid_t?) {
        self.file = file; self.directory = directory; self.group = group
    }

    /// Owner-only: a repository nobody shares, and every per-user cache.
    public static let ownerOnly = FileModes(file: 0o600, directory: 0o700, group: nil)

    /// True when the group gets any access.
    public var isShared: Bool { group != nil }

    public var description: String {
        guard let g = group else { return "private (files 0600, directories 0700)" }
        return "shared with group \(Self.groupName(g)) (files 0\(String(file, radix: 8)), directories 0\(String(directory, radix: 8)))"
    }

    static func groupName(_ gid: gid_t) -> String {
        if let g = getgrgid(gid), let n = g.pointee.gr_name { return String(cString: n) }
        return String(gid)
    }

    /// The modes for the repository in directory `root`, from its `config`
    /// file and the directory itself.
    public static func forRepository(root: String) -> FileModes {
        var dir = stat()
        guard stat(root, &dir) == 0 else { return .ownerOnly }
        var config = stat()
        let haveConfig = stat(root + "/config", &config) == 0
        let setgidShared = dir.st_mode & S_ISGID != 0 && dir.st_mode & S_IWGRP != 0
        if setgidShared || (haveConfig && config.st_mode & S_IWGRP != 0) {
            return FileModes(file: 0o660, directory: 0o770, group: dir.st_gid)
        }
        if haveConfig && config.st_mode & S_IRGRP != 0 {
            return FileModes(file: 0o640, directory: 0o750, group: dir.st_gid)
        }
        return .ownerOnly
    }

    /// Gives a file this process just created (open as `fd`) these modes:
    /// the group, then the mode (fchmod ignores the umask). Best effort: a
    /// file a non-member cannot give the group keeps its mode bits anyway.
    public func apply(fd: Int32) {
        guard let group else { return }
        var st = stat()
        if fstat(fd, &st) == 0 && st.st_gid != group { _ = fchown(fd, uid_t.max, group) }
        _ = fchmod(fd, file)
    }

    /// Gives a directory this process just created these modes, keeping its
    /// setgid bit (inherited from a setgid parent) so its entries keep the group.
    public func apply(directory path: String) {
        guard let group else { return }
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        if st.st_gid != group { _ = chown(path, uid_t.max, group) }
        var parent = stat()
        let parentPath = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let inherit = stat(parentPath.isEmpty ? "/" : parentPath, &parent) == 0 && parent.st_mode & S_ISGID != 0
        _ = chmod(path, directory | ((st.st_mode | (inherit ? S_ISGID : 0)) & S_ISGID))
    }

    /// Creates a directory with these modes; an existing one is left as it is.
    public func makeDirectory(_ path: String) throws {
        if mkdir(path, directory) != 0 {
            if errno == EEXIST { return }
            throw LocalStore.error(path)
        }
        apply(directory: path)
    }

    /// Creates a new file (`O_EXCL`) for writing with these modes.
    public func createFile(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, file)
        guard fd >= 0 else { throw LocalStore.error(path) }
        apply(fd: fd)
        return fd
    }
}
