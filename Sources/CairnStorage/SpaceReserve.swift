import CairnSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Space kept back in a local repository so that a full file system can
/// still be pruned.
///
/// Backups that fill the disk stop with "no space left"; a prune that only
/// deletes (`--max-repack 0`) then still has to write its lock and one new
/// index object before it deletes anything. `reserve` (a file outside every
/// object namespace) holds that space: `init` creates it, every writer
/// creates it when missing and space allows (repositories made before it
/// existed), and a delete-only prune or a forget on a nearly full disk
/// releases it first and makes it again once it has freed space.
public struct SpaceReserve: Sendable {
    /// The file (`<repository>/reserve`).
    public let path: String
    let root: String
    let modes: FileModes
    /// The bytes of the repository's index objects as the caller knows them (a synced
    /// cache records each one's size); nil: `wantedBytes` stats every object of `index/`.
    let knownIndexBytes: UInt64?

    /// The smallest reserve: a lock and the index of a small repository fit many times.
    public static let minimumBytes: UInt64 = 4 << 20
    /// The largest: a reserve must not itself fill a small disk.
    public static let maximumBytes: UInt64 = 256 << 20

    /// - Parameter indexBytes: the index objects' total size when the caller knows it (a
    ///   writer's synced cache): then no object of `index/` is stat'ed, a cost that grew with them.
    public init(store: LocalStore, indexBytes: UInt64? = nil) {
        root = store.root
        path = store.root + "/reserve"
        modes = store.modes
        knownIndexBytes = indexBytes
    }

    /// Its size now (0 when absent).
    public var currentBytes: UInt64 {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_blocks) * 512 : 0
    }

    /// What it should hold: twice the index objects (a prune writes one index
    /// naming every pack that stays), at least `minimumBytes`, at most
    /// `maximumBytes` and a tenth of the file system.
    public var wantedBytes: UInt64 {
        var indexBytes: UInt64 = knownIndexBytes ?? 0
        if knownIndexBytes == nil {
            for name in (try? LocalStore.entries(root + "/index")) ?? [] {
                var st = stat()
                if stat(root + "/index/" + name, &st) == 0 { indexBytes += UInt64(st.st_size) }
            }
        }
        var fs = statvfs()
        let tenth = statvfs(root, &fs) == 0 ? UInt64(fs.f_blocks) * UInt64(fs.f_frsize) / 10 : Self.maximumBytes
        return min(max(Self.minimumBytes, 2 * indexBytes), Self.maximumBytes, max(tenth, 1 << 20))
    }

    /// Bytes free to this user on the repository's file system.
    public var freeBytes: UInt64 {
        var fs = statvfs()
        guard statvfs(root, &fs) == 0 else { return UInt64.max }
        return UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
    }

    /// True when the file system is so full that the reserve is needed: less
    /// free space than the reserve holds.
    public var diskIsNearlyFull: Bool { freeBytes < wantedBytes }

    /// Removes the reserve; returns the bytes it held (0 when there was none).
    @discardableResult
    public func release() -> UInt64 {
        let had = currentBytes
        guard had > 0 else { return 0 }
        return unlink(path) == 0 ? had : 0
    }

    /// Creates the reserve (or grows it to `wantedBytes`) when the file system
    /// has room for it and as much again; otherwise leaves things as they are.
    /// Returns true when the reserve is in place at its wanted size.
    @discardableResult
    public func refresh() -> Bool {
        let wanted = wantedBytes
        let have = currentBytes
        if have >= wanted { return true }
        guard freeBytes >= 2 * (wanted - have) else { return false }
        let tmp = root + "/tmp/" + TemporaryFileName.make(prefix: "reserve")
        let token = Interruption.shared.register("temporary file", .unlink(tmp))
        defer { Interruption.shared.unregister(token) }
        guard (try? modes.makeDirectory(root + "/tmp")) != nil, let fd = try? modes.createFile(tmp) else { return false }
        var ok = posix_fallocate(fd, 0, off_t(wanted)) == 0
        if !ok {
            // A file system without fallocate: write the zeros.
            let zeros = [UInt8](repeating: 0, count: 1 << 20)
            ok = true
            var written: UInt64 = 0
            while ok && written < wanted {
                let n = Int(min(UInt64(zeros.count), wanted - written))
                ok = (try? zeros.withUnsafeBytes { try FileDescriptorIO.writeAll(fd, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }) != nil
                written += UInt64(n)
            }
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(tmp, path) == 0 else { unlink(tmp); return false }
        return true
    }
}
