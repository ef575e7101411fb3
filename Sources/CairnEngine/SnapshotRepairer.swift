import CairnCrypto
import CairnFormat
import CairnIndex

/// `cairn repair snapshots`: when a blob exists nowhere, rewrites each
/// affected snapshot so that what survives is still restorable, and says
/// exactly what was lost. Never silent:
///
/// - a lost data chunk whose length is known (from the index) becomes zeros
///   of the same length, so later offsets stay right;
/// - a lost chunk of unknown length, or a lost chunk list, truncates the file
///   at the last good byte;
/// - a lost tree becomes an empty directory.
///
/// The new snapshot keeps name, time and host, gains the tag `repaired`, and
/// records the lost ranges in `extra` (`lost:PATH` = `start-end,...`); the
/// damaged snapshot object is then deleted.
public struct SnapshotRepairer {
    let repo: Repository
    public init(repo: Repository) { self.repo = repo }

    public struct Rewritten: Sendable {
        public var old: String
        public var new: String
        public var losses: [String: String]
    }

    public func repair(report: ScrubReport) async throws -> [Rewritten] {
        let view = try await StoreIndexView.load(repo)
        var bad = Set<StoreIndexView.BlobKey>()
        for b in report.blobProblems {
            if let id = ChunkID(hex: b.blob), let t = BlobType.named(b.type) { bad.insert(.init(id: id, type: t)) }
        }
        var out: [Rewritten] = []
        for snapshotID in report.affectedSnapshots.sorted() {
            guard let record = try repo.snapshots().first(where: { $0.id == snapshotID }) else { continue }
            let saver = BlobSaver(repo: repo)
            var ctx = Context(repo: repo, view: view, bad: bad, saver: saver)
            let root = try await ctx.rewriteTree(record.snapshot.root, path: "")
            try await saver.finish()
            var s = record.snapshot
            s.root = root
            s.parent = ChunkID(hex: record.id)
            if !s.tags.contains("repaired") { s.tags.append("repaired") }
            for (path, lost) in ctx.losses { s.extra["lost:\(path)"] = lost }
            let newID = try await repo.saveSnapshot(s)
            try await repo.store.delete(.init(.snapshots, record.id))
            try repo.index.removeSnapshot(id: record.id)
            out.append(Rewritten(old: record.id, new: newID, losses: ctx.losses))
        }
        return out
    }

    private struct Context {
        let repo: Repository
        let view: StoreIndexView
        let bad: Set<StoreIndexView.BlobKey>
        let saver: BlobSaver
        var losses: [String: String] = [:]

        func readable(_ type: BlobType, _ id: ChunkID) -> BlobLocation? {
            let k = StoreIndexView.BlobKey(id: id, type: type)
            return bad.contains(k) ? nil : view.blobs[k]
        }

        mutating func rewriteTree(_ id: ChunkID, path: String) async throws -> ChunkID {
            guard let loc = readable(.tree, id), let plain = try? await repo.readBlob(.tree, id, at: loc), let tree = try? Tree.decode(plain) else {
                losses[path.isEmpty ? "/" : path] = "directory lost (restored empty)"
                return try await saver.saveMetadata(.tree, Tree(nodes: []).encoded())
            }
            var nodes = tree.nodes
            for i in nodes.indices {
                let p = path + "/" + nodes[i].displayName
                switch nodes[i].kind {
                case .directory:
                    if let sub = nodes[i].subtree { nodes[i].subtree = try await rewriteTree(sub, path: p) }
                case .file:
                    var builder = ContentBuilder()
                    var lost: [String] = []
                    var offset: UInt64 = 0
                    var truncated = false
                    try await rebuild(nodes[i].content, builder: &builder, offset: &offset, lost: &lost, truncated: &truncated)
                    if !lost.isEmpty {
                        let (lists, root) = builder.finish()
                        for l in lists { _ = try await saver.saveMetadata(.list, l.encodedListBlob()) }
                        nodes[i].content = root
                        nodes[i].size = builder.size
                        losses[p] = lost.joined(separator: ",")
                    }
                case .symlink: break
                }
            }
            return try await saver.saveMetadata(.tree, Tree(nodes: nodes).encoded())
        }

        private mutating func rebuild(_ ref: ContentRef, builder: inout ContentBuilder, offset: inout UInt64, lost: inout [String], truncated: inout Bool) async throws {
            if truncated { return }
            if ref.level == 0 {
                for id in ref.ids {
                    if let loc = readable(.data, id) {
                        for l in builder.append(id, length: Int(loc.rawLength)) { _ = try await saver.saveMetadata(.list, l.encodedListBlob()) }
                        offset += UInt64(loc.rawLength)
                    } else if let length = view.blobs[.init(id: id, type: .data)]?.rawLength {
                        let zeros = [UInt8](repeating: 0, count: Int(length))
                        let zid = SHA256.id(zeros)
                        if try saver.claim(zid, type: .data) {
                            try await saver.add(sealed: try repo.codec.seal(zeros, type: .data, id: zid), type: .data, id: zid, rawLength: zeros.count)
                        }
                        for l in builder.append(zid, length: zeros.count) { _ = try await saver.saveMetadata(.list, l.encodedListBlob()) }
                        lost.append("\(offset)-\(offset + UInt64(length) - 1) zero-filled")
                        offset += UInt64(length)
                    } else {
                        lost.append("\(offset)-end truncated")
                        truncated = true
                        return
                    }
                }
                return
            }
            for id in ref.ids {
                guard let loc = readable(.list, id), let plain = try? await repo.readBlob(.list, id, at: loc),
                      let child = try? ContentRef.decodeListBlob(plain) else {
                    lost.append("\(offset)-end truncated")
                    truncated = true
                    return
                }
                try await rebuild(child, builder: &builder, offset: &offset, lost: &lost, truncated: &truncated)
                if truncated { return }
            }
        }
    }
}
