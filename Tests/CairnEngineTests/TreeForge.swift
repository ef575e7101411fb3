@testable import CairnEngine
@testable import CairnRepository
import CairnCrypto
import CairnFormat
import Foundation

/// Forges snapshots from hand-made trees, as a client holding the key can
/// (format-spec §11-13: a tree blob per directory, data chunks named by their
/// SHA-256, a snapshot naming the root): names, kinds, modes, inodes and link
/// targets are whatever the test says, with nothing an honest backup checks.
struct TreeForge {
    let repo: Repository
    let saver: BlobSaver

    init(_ repo: Repository) { self.repo = repo; saver = BlobSaver(repo: repo) }

    /// A file node holding `content` in one data chunk (none when empty).
    func file(_ name: String, _ content: [UInt8], mode: UInt32 = 0o644, inode: UInt64 = 0, mtimeNanos: Int64 = 1_600_000_000_000_000_000) async throws -> Node {
        try await file(Array(name.utf8), content, mode: mode, inode: inode, mtimeNanos: mtimeNanos)
    }

    func file(_ name: [UInt8], _ content: [UInt8], mode: UInt32 = 0o644, inode: UInt64 = 0, mtimeNanos: Int64 = 1_600_000_000_000_000_000) async throws -> Node {
        var node = Node(name: name, kind: .file, mode: mode, mtimeNanos: mtimeNanos, inode: inode, device: inode == 0 ? 0 : 7, size: UInt64(content.count))
        if !content.isEmpty {
            let id = SHA256.id(content)
            if try saver.claim(id, type: .data) {
                try await saver.add(sealed: try repo.codec.seal(content, type: .data, id: id), type: .data, id: id, rawLength: content.count)
            }
            node.content = ContentRef(level: 0, ids: [id])
        }
        return node
    }

    func symlink(_ name: String, to target: String) -> Node {
        Node(name: Array(name.utf8), kind: .symlink, mode: 0o777, mtimeNanos: 1_600_000_000_000_000_000, linkTarget: Array(target.utf8))
    }

    /// A directory node whose subtree holds `children`.
    func directory(_ name: String, mode: UInt32 = 0o755, _ children: [Node]) async throws -> Node {
        try await directory(Array(name.utf8), mode: mode, children)
    }

    func directory(_ name: [UInt8], mode: UInt32 = 0o755, _ children: [Node]) async throws -> Node {
        var node = Node(name: name, kind: .directory, mode: mode, mtimeNanos: 1_600_000_000_000_000_000)
        node.subtree = try await saver.saveMetadata(.tree, Tree(nodes: children).encoded())
        return node
    }

    /// Stores everything and commits a snapshot whose root holds `nodes`.
    func snapshot(_ nodes: [Node], name: String = "forged") async throws -> SnapshotRecord {
        let root = try await saver.saveMetadata(.tree, Tree(nodes: nodes).encoded())
        try await saver.finish()
        let id = try await repo.saveSnapshot(Snapshot(timeNanos: Clock.nowNanos(), name: name, host: "forge", sourceKind: "tree", root: root))
        return try repo.resolveSnapshot(id)
    }
}

/// Lists every entry under `dir` (relative paths, not following links) with what it is:
/// "f:<sha256>:<mode>", "d:<mode>" or "l:<target>".
func describeTree(_ dir: String) throws -> [String: String] {
    var out: [String: String] = [:]
    var pending = [""]
    while let rel = pending.popLast() {
        let path = rel.isEmpty ? dir : dir + "/" + rel
        for name in try FileManager.default.contentsOfDirectory(atPath: path) {
            let r = rel.isEmpty ? name : rel + "/" + name
            var st = stat()
            guard lstat(dir + "/" + r, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                out[r] = "d:" + String(st.st_mode & 0o7777, radix: 8)
                pending.append(r)
            case S_IFLNK:
                out[r] = "l:" + ((try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/" + r)) ?? "?")
            default:
                let bytes = FileManager.default.contents(atPath: dir + "/" + r) ?? Data()
                out[r] = "f:" + SHA256.id([UInt8](bytes)).hex + ":" + String(st.st_mode & 0o7777, radix: 8)
            }
        }
    }
    return out
}
