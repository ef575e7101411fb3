import CairnEngine
import CairnFormat
import CairnTar
#if canImport(Glibc)
import Glibc
#endif

/// Writes a tree snapshot as a POSIX pax tar stream: directories, files,
/// symlinks, FIFOs, devices (sockets have no tar member and are left out),
/// hard links (files of the snapshot sharing device and inode),
/// modes, owners and mtimes with nanoseconds; long and non-ASCII names through
/// pax records. Every chunk is verified before it is written.
struct TarExport {
    let repo: Repository
    let restorer: Restorer
    let fd: Int32
    private var firstPath: [Key: [UInt8]] = [:]
    private var pending: [UInt8] = []
    private(set) var members: UInt64 = 0
    private(set) var bytes: UInt64 = 0

    private struct Key: Hashable { let device: UInt64; let inode: UInt64 }

    init(repo: Repository, restorer: Restorer, fd: Int32) {
        self.repo = repo; self.restorer = restorer; self.fd = fd
    }

    mutating func run(root: ChunkID) async throws {
        try await walk(root, prefix: [])
        emit(TarWriter.trailer)
        try flush()
    }

    private mutating func walk(_ id: ChunkID, prefix: [UInt8]) async throws {
        let tree = try await repo.loadTree(id)
        for node in tree.nodes {
            let path = prefix.isEmpty ? node.name : prefix + [47] + node.name
            var entry = TarEntry(path: path, kind: .file, mode: node.mode, uid: node.uid, gid: node.gid, user: node.user,
                                 group: node.group, mtimeNanos: node.mtimeNanos, size: node.size)
            members += 1
            switch node.kind {
            case .directory:
                entry.kind = .directory
                emit(TarWriter.header(for: entry))
                if let sub = node.subtree { try await walk(sub, prefix: path) }
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
                    emit(TarWriter.header(for: entry))
                    continue
                }
                if node.inode != 0 { firstPath[key] = path }
                emit(TarWriter.header(for: entry))
                try flush()
                let display = String(decoding: path, as: UTF8.self)
                let out = fd
                try await restorer.readContent(of: node, path: display) { chunk in try writeAll(out, chunk, path: "the tar stream") }
                bytes += node.size
                emit([UInt8](repeating: 0, count: TarWriter.padding(for: node.size)))
            }
            if pending.count > 1 << 20 { try flush() }
        }
    }

    private mutating func emit(_ b: [UInt8]) { pending += b }

    private mutating func flush() throws {
        try writeAll(fd, pending, path: "the tar stream")
        pending.removeAll(keepingCapacity: true)
    }
}
