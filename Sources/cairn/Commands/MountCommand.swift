import ArgumentParser
import CFuseShim
import CairnEngine
import CairnRepository
import CairnFormat
import CairnStorage
import CairnSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `cairn mount DIR`: the repository's snapshots as a read-only FUSE file
/// system (restic's `mount`), served until unmounted.
struct MountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Show the repository's snapshots as a read-only file system (FUSE) at DIR.",
        discussion: """
        Runs in the foreground until DIR is unmounted ('umount DIR', 'fusermount -u DIR') or the command is \
        stopped (Ctrl-C, SIGTERM): either way the mount goes and the repository lock is removed. While mounted \
        the command holds a shared lock (prune waits; backups and restores do not).

        Layout:
          DIR/snapshots/<time>/...     each snapshot by UTC time (2026-12-06T11:33:08Z)
          DIR/snapshots/latest         a link to the newest
          DIR/names/<name>/<time>/...  and DIR/names/<name>/latest
          DIR/hosts/<host>/...         the same by host; DIR/tags/<tag>/... by tag
          DIR/ids/<id>/...             by the id 'cairn snapshots' shows
        Files are read with random access: a read fetches only the chunks it covers (verified), and the most \
        recent chunks are kept in memory (--cache-mib). Snapshots made after mounting appear after a remount. \
        Names, hosts and tags are escaped as 'cairn ls' shows names, with '/' as \\x2f.

        Only the mounting user may enter the mount unless --allow-other is given (then file modes and owners \
        recorded in the snapshots decide; /etc/fuse.conf must allow it for users other than root).

        Examples:
          cairn mount /mnt/cairn &
          pg_restore --list /mnt/cairn/names/pgdump/latest/dump.pgc
          diff /etc/hosts /mnt/cairn/snapshots/latest/etc/hosts
          umount /mnt/cairn
        """)

    @OptionGroup var options: RepositoryOptions
    @OptionGroup var lockOptions: ReadLockOptions

    @Argument(help: "An existing directory to mount the snapshots on.")
    var directory: String

    @Option(help: "Only snapshots of this name (repeatable: any of them).")
    var name: [String] = []

    @OptionGroup(title: "Show only the snapshots these select")
    var filterOptions: SnapshotFilterOptions

    @Flag(help: "Let other users enter the mount (file modes and owners from the snapshots decide what they may read).")
    var allowOther = false

    @Option(help: "Memory for recently read chunks, in MiB.")
    var cacheMib: Int = 64

    func validate() throws {
        if directory.isEmpty { throw ValidationError("DIR is empty: name an existing directory to mount on") }
        if cacheMib < 0 || cacheMib > 1 << 20 { throw ValidationError("--cache-mib must be between 0 and 1048576") }
    }

    func run() async throws {
        var st = stat()
        guard stat(directory, &st) == 0 else {
            throw CairnError.usage("cannot mount on \(directory): \(String(cString: strerror(errno))) (create the directory first)")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw CairnError.usage("cannot mount on \(directory): not a directory") }
        // libfuse3 is loaded here, not at every start: without it, say which package to install before anything else.
        try LazyLibraryError.check(cairn_fuse_load())
        guard access("/dev/fuse", R_OK | W_OK) == 0 else {
            throw CairnError.other("cannot mount: /dev/fuse is missing or not usable here (\(String(cString: strerror(errno)))); load the fuse module or run where FUSE is available")
        }
        let repo = try await options.openForReading(operation: "mount", lockOptions: lockOptions)
        let records = try repo.snapshots(matching: filterOptions.filter(names: name))
        let fs = SnapshotFileSystem(repo: repo, records: records, owner: (getuid(), getgid()), cacheBytes: cacheMib << 20)
        let server = MountServer(fs: fs)
        let context = Unmanaged.passRetained(server).toOpaque()
        defer { Unmanaged<MountServer>.fromOpaque(context).release() }
        var callbacks = cairn_fuse_callbacks(context: context, getattr: MountServer.getattr, readdir: MountServer.readdir,
                                             readlink: MountServer.readlink, open: MountServer.open, read: MountServer.read,
                                             release: MountServer.release)
        let errorSize = 512
        var error = [CChar](repeating: 0, count: errorSize)
        guard let session = cairn_fuse_mount(directory, &callbacks, "cairn", allowOther ? 1 : 0, 60, &error, errorSize) else {
            throw CairnError.other("cannot mount on \(directory): \(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        let mountpoint = directory
        // Ctrl-C, SIGTERM, SIGHUP: detach the mount (the serving loop then ends) besides removing the lock.
        Interruption.shared.register("mount", .run { _ = cairn_fuse_detach(mountpoint) })
        Interruption.shared.keptNote = "unmounted \(mountpoint); nothing in the repository was changed"
        Terminal.info("cairn: mounted \(records.count) snapshot\(records.count == 1 ? "" : "s") read-only at \(directory); 'umount \(directory)' or Ctrl-C ends it")
        let box = UncheckedSession(session: session)
        let status: Int32 = await withCheckedContinuation { done in
            let thread = Thread { done.resume(returning: cairn_fuse_serve(box.session, 4)) }
            thread.name = "cairn-fuse"
            thread.start()
        }
        cairn_fuse_destroy(session)
        if Interruption.shared.signal != nil {
            // Stopped by a signal: its handler (which detached the mount) removes the lock, says so and exits 128 + signal.
            while true { pause() }
        }
        if status < 0 { throw CairnError.other("the mount at \(directory) failed: \(String(cString: strerror(-status)))") }
        Terminal.info("cairn: unmounted \(directory)")
    }
}

/// The libfuse session pointer, handed to the serving thread.
private struct UncheckedSession: @unchecked Sendable { let session: UnsafeMutableRawPointer }

/// Answers libfuse's callbacks (on its threads) from a `SnapshotFileSystem`,
/// waiting for each async lookup. Errors become errno values; what went
/// wrong is said once per message on standard error.
final class MountServer: @unchecked Sendable {
    let fs: SnapshotFileSystem
    private let said = NSLock()
    private var reported: Set<String> = []

    init(fs: SnapshotFileSystem) { self.fs = fs }

    private final class Outcome<T>: @unchecked Sendable { var value: Result<T, any Error>? }

    /// Runs `body` to its end on the Swift concurrency pool; this (libfuse) thread waits.
    func wait<T>(_ body: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
        let outcome = Outcome<T>()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do { outcome.value = .success(try await body()) } catch { outcome.value = .failure(error) }
            done.signal()
        }
        done.wait()
        return outcome.value ?? .failure(CairnError.other("no result"))
    }

    /// The errno for `error` (said once on standard error unless it is a plain miss).
    func errno(for error: any Error) -> Int32 {
        if case CairnError.pathNotFound = error { return -ENOENT }
        let message = describe(error)
        said.lock()
        let first = reported.insert(message).inserted
        said.unlock()
        if first { Terminal.warn("mount: \(message)") }
        return -EIO
    }

    static func server(_ context: UnsafeMutableRawPointer?) -> MountServer? {
        context.map { Unmanaged<MountServer>.fromOpaque($0).takeUnretainedValue() }
    }

    static func bytes(_ path: UnsafePointer<CChar>?) -> [UInt8] {
        guard let path else { return [] }
        return Array(UnsafeBufferPointer(start: UnsafeRawPointer(path).assumingMemoryBound(to: UInt8.self), count: strlen(path)))
    }

    static func fill(_ st: inout stat, _ item: SnapshotFileSystem.Item) {
        let type: mode_t
        switch item.kind {
        case .directory: type = S_IFDIR
        case .file: type = S_IFREG
        case .symlink: type = S_IFLNK
        case .fifo: type = S_IFIFO
        case .characterDevice: type = S_IFCHR
        case .blockDevice: type = S_IFBLK
        case .socket: type = S_IFSOCK
        }
        st.st_mode = type | mode_t(item.mode & 0o7777)
        st.st_nlink = item.kind == .directory ? 2 : 1
        st.st_uid = item.uid
        st.st_gid = item.gid
        st.st_size = off_t(clamping: item.size)
        st.st_blocks = blkcnt_t(clamping: (item.size + 511) / 512)
        st.st_blksize = 4096
        let t = timespec(tv_sec: Int(clamping: item.mtime.seconds), tv_nsec: Int(item.mtime.nanoseconds))
        st.st_mtim = t
        st.st_atim = t
        st.st_ctim = t
        if item.kind == .characterDevice || item.kind == .blockDevice {
            // glibc's makedev layout.
            let major = UInt64(item.deviceMajor), minor = UInt64(item.deviceMinor)
            st.st_rdev = dev_t((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12) | ((major & ~0xfff) << 32))
        }
    }

    static let getattr: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<stat>?) -> Int32 = { context, path, st in
        guard let server = server(context), let st else { return -EIO }
        let p = bytes(path), fs = server.fs
        switch server.wait({ try await fs.item(at: p) }) {
        case .success(let item?):
            fill(&st.pointee, item)
            return 0
        case .success(nil): return -ENOENT
        case .failure(let e): return server.errno(for: e)
        }
    }

    static let readdir: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?, cairn_fuse_fill?) -> Int32 = { context, path, buffer, filler in
        guard let server = server(context), let filler else { return -EIO }
        let p = bytes(path), fs = server.fs
        switch server.wait({ try await fs.list(p) }) {
        case .success(let entries?):
            var st = stat()
            st.st_mode = S_IFDIR | 0o555
            _ = filler(buffer, ".", &st)
            _ = filler(buffer, "..", nil)
            for entry in entries {
                // A name a directory entry cannot carry (only a forged tree has one) is left out.
                guard !entry.name.isEmpty, !entry.name.contains(0), !entry.name.contains(47), entry.name != [46], entry.name != [46, 46] else { continue }
                var st = stat()
                fill(&st, entry.item)
                let name = entry.name.map { CChar(bitPattern: $0) } + [0]
                // Non-zero: the kernel's buffer is full (libfuse asks again from the start).
                if filler(buffer, name, &st) != 0 { break }
            }
            return 0
        case .success(nil): return -ENOTDIR
        case .failure(let e): return server.errno(for: e)
        }
    }

    static let readlink: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, Int) -> Int32 = { context, path, buffer, size in
        guard let server = server(context), let buffer, size > 0 else { return -EIO }
        let p = bytes(path), fs = server.fs
        switch server.wait({ try await fs.item(at: p) }) {
        case .success(let item?):
            guard item.kind == .symlink else { return -EINVAL }
            let n = min(item.linkTarget.count, size - 1)
            item.linkTarget.withUnsafeBufferPointer { t in
                UnsafeMutableRawPointer(buffer).copyMemory(from: UnsafeRawPointer(t.baseAddress!), byteCount: n)
            }
            buffer[n] = 0
            return 0
        case .success(nil): return -ENOENT
        case .failure(let e): return server.errno(for: e)
        }
    }

    static let open: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafeMutablePointer<UInt64>?) -> Int32 = { context, path, handle in
        guard let server = server(context), let handle else { return -EIO }
        let p = bytes(path), fs = server.fs
        switch server.wait({ try await fs.open(p) }) {
        case .success(let h):
            handle.pointee = h
            return 0
        case .failure(let e): return server.errno(for: e)
        }
    }

    static let read: @convention(c) (UnsafeMutableRawPointer?, UInt64, UnsafeMutablePointer<CChar>?, Int, Int64) -> Int32 = { context, handle, buffer, size, offset in
        guard let server = server(context), let buffer, offset >= 0 else { return -EIO }
        let fs = server.fs
        switch server.wait({ try await fs.read(handle, offset: UInt64(offset), count: min(size, 1 << 24)) }) {
        case .success(let bytes):
            bytes.withUnsafeBytes { b in
                if let base = b.baseAddress { UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: b.count) }
            }
            return Int32(bytes.count)
        case .failure(let e): return server.errno(for: e)
        }
    }

    static let release: @convention(c) (UnsafeMutableRawPointer?, UInt64) -> Int32 = { context, handle in
        server(context)?.fs.close(handle)
        return 0
    }
}
