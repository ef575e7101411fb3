import CairnFormat
import CairnStorage
import CSysXattr
#if canImport(Glibc)
import Glibc
#endif

/// lstat(2) and name lookups, turned into a tree `Node` without content.
enum FileMetadata {
    /// What lstat says of a path, or nil with errno set.
    static func lstat(_ path: BytePath) -> stat? {
        var st = stat()
        return path.withCString { Glibc.lstat($0, &st) } == 0 ? st : nil
    }

    static func kind(_ st: stat) -> NodeKind? {
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        case S_IFIFO: return .fifo
        case S_IFCHR: return .characterDevice
        case S_IFBLK: return .blockDevice
        case S_IFSOCK: return .socket
        default: return nil
        }
    }

    static func node(name: [UInt8], kind: NodeKind, st: stat, names: inout NameCache) -> Node {
        var node = Node(name: name, kind: kind, mode: UInt32(st.st_mode) & 0o7777, uid: st.st_uid, gid: st.st_gid,
                        user: names.user(st.st_uid), group: names.group(st.st_gid),
                        inode: UInt64(st.st_ino), device: UInt64(st.st_dev), size: kind == .file ? UInt64(st.st_size) : 0)
        if kind.isDevice { (node.deviceMajor, node.deviceMinor) = DeviceNumber.split(UInt64(st.st_rdev)) }
        // Seconds and nanoseconds as the kernel has them: a time after 2262 or before 1677 does not fit Int64 nanoseconds.
        node.mtime = FileTime(seconds: Int64(st.st_mtim.tv_sec), nanoseconds: UInt32(clamping: st.st_mtim.tv_nsec))
        node.ctime = FileTime(seconds: Int64(st.st_ctim.tv_sec), nanoseconds: UInt32(clamping: st.st_ctim.tv_nsec))
        return node
    }

    /// The extended attributes of a path (not following symlinks); empty when
    /// there are none or the file system has none.
    static func extendedAttributes(_ path: BytePath) -> [ExtendedAttribute] {
        path.withCString { p -> [ExtendedAttribute] in
            let size = llistxattr(p, nil, 0)
            guard size > 0 else { return [] }
            var names = [CChar](repeating: 0, count: size)
            let n = llistxattr(p, &names, size)
            guard n > 0 else { return [] }
            var out: [ExtendedAttribute] = []
            for name in names[0..<n].split(separator: 0) {
                let nameBytes = name.map { UInt8(bitPattern: $0) }
                let cName = Array(name) + [0]
                let vsize = lgetxattr(p, cName, nil, 0)
                guard vsize >= 0 else { continue }
                var value = [UInt8](repeating: 0, count: vsize)
                let got = vsize == 0 ? 0 : lgetxattr(p, cName, &value, vsize)
                guard got >= 0 else { continue }
                out.append(ExtendedAttribute(name: nameBytes, value: Array(value.prefix(got))))
            }
            return out.sorted { $0.name.lexicographicallyPrecedes($1.name) }
        }
    }

    static func readLink(_ path: BytePath) -> [UInt8]? {
        var buf = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = buf.withUnsafeMutableBytes { b in path.withCString { readlink($0, b.baseAddress!.assumingMemoryBound(to: CChar.self), b.count) } }
        return n < 0 ? nil : Array(buf[0..<n])
    }

    /// Directory entries, sorted by name bytes; nil with errno set on failure.
    static func entries(_ path: BytePath) -> [[UInt8]]? {
        guard let names = path.withCString({ DirectoryReader.names($0) }) else { return nil }
        return names.sorted { $0.lexicographicallyPrecedes($1) }
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}

/// Caches uid → user name and gid → group name.
struct NameCache {
    private var users: [UInt32: String] = [:]
    private var groups: [UInt32: String] = [:]

    mutating func user(_ uid: UInt32) -> String {
        if let u = users[uid] { return u }
        let n = getpwuid(uid).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? ""
        users[uid] = n
        return n
    }

    mutating func group(_ gid: UInt32) -> String {
        if let g = groups[gid] { return g }
        let n = getgrgid(gid).flatMap { $0.pointee.gr_name.map { String(cString: $0) } } ?? ""
        groups[gid] = n
        return n
    }
}

