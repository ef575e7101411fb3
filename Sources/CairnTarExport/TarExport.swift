import CairnEngine
import CairnRepository
import CairnFormat
import CairnTar
#if canImport(Glibc)
import Glibc
#endif

/// Writes a tree snapshot as a POSIX pax tar stream: directories, files,
/// symlinks, FIFOs, devices (sockets have no tar member and are left out),
/// hard links (files of the snapshot sharing device and inode), modes,
/// owners, mtimes with nanoseconds (any year), extended attributes; long and
/// non-ASCII names through pax records. Every chunk is verified before it is
/// written, and no file emits more bytes than its header declares (a forged
/// entry cannot add members). The walk is `TreeWalker`'s (iterative: one path
/// buffer and one level of nodes per directory of the current path).
public struct TarExport {
    public let repo: Repository
    public let restorer: Restorer
    public let fd: Int32
    private var firstPath: [Key: [UInt8]] = [:]
    private var pending: [UInt8] = []
    public private(set) var members: UInt64 = 0
    public private(set) var bytes: UInt64 = 0
    /// What the archive could not carry (said once each).
    public private(set) var warnings: [String] = []

    private struct Key: Hashable { let device: UInt64; let inode: UInt64 }

    /// Writes to `fd`; `restorer` reads (and verifies) the content of `repo`'s snapshot.
    public init(repo: Repository, restorer: Restorer, fd: Int32) {
        self.repo = repo; self.restorer = restorer; self.fd = fd
    }

    /// Writes the whole tree `root` at the top of the archive.
    public mutating func run(root: ChunkID) async throws {
        try await run(nodes: try await repo.loadTree(root).nodes, under: [])
    }

    /// Writes `nodes` (and everything below the directories among them) as
    /// members named `prefix/name...` (`prefix` without a leading or trailing
    /// slash; empty: at the top of the archive).
    public mutating func run(nodes: [Node], under prefix: [UInt8]) async throws {
        // TreeWalker's paths are "/a/b" below the directory `nodes` come from.
        try await TreeWalker.walk(nodes: nodes, root: (), visit: { path, node, _ in
            try await write(node, member: prefix.isEmpty ? Array(path.dropFirst()) : prefix + path)
            guard node.kind == .directory, let sub = node.subtree else { return nil }
            return (try await repo.loadTree(sub).nodes, ())
        }, leave: { _, _, _ in })
        emit(TarWriter.trailer)
        try flush()
    }

    /// Writes one member: its header, and a file's verified content.
    private mutating func write(_ node: Node, member: [UInt8]) async throws {
        var entry = TarEntry(path: member, kind: .file, mode: node.mode, uid: node.uid, gid: node.gid, user: node.user,
                             group: node.group, size: node.size)
        (entry.mtimeSeconds, entry.mtimeNanoseconds) = (node.mtime.seconds, node.mtime.nanoseconds)
        entry.xattrs = attributes(of: node, path: member)
        members += 1
        switch node.kind {
        case .directory:
            entry.kind = .directory
            emit(TarWriter.header(for: entry))
        case .symlink:
            entry.kind = .symlink(target: node.linkTarget)
            emit(TarWriter.header(for: entry))
        case .fifo:
            entry.kind = .fifo
            emit(TarWriter.header(for: entry))
        case .characterDevice:
            entry.kind = .characterDevice(major: node.deviceMajor, minor: node.deviceMinor)
            emit(TarWriter.header(for: entry))
        case .blockDevice:
            entry.kind = .blockDevice(major: node.deviceMajor, minor: node.deviceMinor)
            emit(TarWriter.header(for: entry))
        case .socket:
            // tar has no socket member (GNU tar skips them too).
            members -= 1
        case .file:
            let key = Key(device: node.device, inode: node.inode)
            if node.inode != 0, let target = firstPath[key] {
                entry.kind = .hardLink(target: target)
                entry.size = 0
                emit(TarWriter.header(for: entry))
                return
            }
            if node.inode != 0 { firstPath[key] = member }
            emit(TarWriter.header(for: entry))
            try flush()
            let display = EscapedText.escape(member)
            let out = fd
            // readContent refuses a chunk that would go past the node's size before it reaches the sink.
            try await restorer.readContent(of: node, path: display) { chunk in try writeAll(out, chunk, path: "the tar stream") }
            bytes += node.size
            emit([UInt8](repeating: 0, count: TarWriter.padding(for: node.size)))
        }
        if pending.count > 1 << 20 { try flush() }
    }

    /// The node's extended attributes that a pax record can carry; a warning for each other.
    private mutating func attributes(of node: Node, path: [UInt8]) -> [TarEntry.Attribute] {
        var out: [TarEntry.Attribute] = []
        for x in node.xattrs {
            if TarWriter.canRecord(attribute: x.name) {
                out.append(TarEntry.Attribute(name: x.name, value: x.value))
            } else {
                warnings.append("\(String(decoding: path, as: UTF8.self)): extended attribute \(String(decoding: x.name, as: UTF8.self).debugDescription) cannot be named in a tar stream (left out)")
            }
        }
        return out
    }

    private mutating func emit(_ b: [UInt8]) { pending += b }

    private mutating func flush() throws {
        try writeAll(fd, pending, path: "the tar stream")
        pending.removeAll(keepingCapacity: true)
    }
}
