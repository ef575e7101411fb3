import CairnCrypto
import CairnFormat
import CairnIndex
import CairnRepository
import CairnStorage

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
        public var old: SnapshotID
        public var new: SnapshotID
        public var losses: [String: String]
        /// Damaged paths beyond `listedLossesPerSnapshot`: repaired alike, counted, not listed.
        public var lossesNotListed = 0
    }

    /// Paths a repaired snapshot lists in `extra` (a forged tree can reach one lost blob under millions).
    static let listedLossesPerSnapshot = 10_000
    /// Chunk references a file's content is rebuilt from at most; a damaged file with more is lost whole.
    static let maximumChunksRebuilt = 1 << 24

    /// What repair made of each tree and list it met, shared by every snapshot it rewrites:
    /// a subtree reached by many paths is rewritten once and its losses replayed under each.
    final class Memo {
        struct Rewritten { let id: ChunkID; let losses: Range<Int>; let pathLength: Int; let notListed: Int }
        var trees: [ChunkID: Rewritten] = [:]
        /// Whether every chunk below a list blob is readable.
        var intactLists: [ChunkID: Bool] = [:]
        /// Losses in the order found, paths absolute in the snapshot where found first.
        var log: [(path: [UInt8], lost: String)] = []
    }

    public func repair(report: ScrubReport) async throws -> [Rewritten] {
        // A blob that some pack holds is not lost, whatever the index objects say: rewriting a
        // snapshot then would throw away data a rebuild of the index recovers.
        guard report.unindexedBlobs.isEmpty else {
            throw CairnError.other("\(report.unindexedBlobs.count) blob(s) that snapshots use are in packs no readable index object names (index damage, no data lost): run 'cairn index rebuild --read-packs' first; no snapshot was rewritten")
        }
        let view = try await StoreIndexView.load(repo)
        // Lengths of lost blobs whose damaged pack left the index ('cairn repair' keeps such a
        // pack's bytes): its own header still says how long each chunk was, so a lost chunk
        // becomes zeros of the right length instead of truncating the file.
        var lengths: [StoreIndexView.BlobKey: UInt32] = [:]
        for hex in Set(report.blobProblems.compactMap(\.pack)) {
            guard let pack = PackID(hex: hex), !view.names(pack: pack),
                  let size = try? await repo.store.size(ObjectKey(.data, hex)),
                  let header = try? await repo.readPackHeader(pack, size: size) else { continue }
            for e in header.entries { lengths[.init(id: e.id, type: e.type)] = e.rawLength }
        }
        var bad = Set<StoreIndexView.BlobKey>()
        for b in report.blobProblems {
            if let id = ChunkID(hex: b.blob), let t = BlobType.named(b.type) { bad.insert(.init(id: id, type: t)) }
        }
        var out: [Rewritten] = []
        let memo = Memo()
        for snapshotID in report.affectedSnapshots.sorted() {
            guard let record = try repo.snapshots().first(where: { $0.id.hex == snapshotID }) else { continue }
            let saver = BlobSaver(repo: repo)
            var ctx = Context(repo: repo, view: view, lengths: lengths, bad: bad, saver: saver, memo: memo)
            let root = try await ctx.rewriteTree(record.snapshot.root)
            try await saver.finish()
            var s = record.snapshot
            s.root = root
            s.parent = record.id
            if !s.tags.contains("repaired") { s.tags.append("repaired") }
            for (path, lost) in ctx.losses { s.extra[SnapshotFacts.lostPath(path)] = lost }
            if ctx.lossesNotListed > 0 { s.extra[SnapshotFacts.lostPathsNotListed] = "\(ctx.lossesNotListed)" }
            let newID = try await repo.commitSnapshot(s)
            // The damaged original is forgotten like any removed snapshot: a copy put back is recognised.
            try await SnapshotForgetter(repo: repo).remove(record.id)
            out.append(Rewritten(old: record.id, new: newID, losses: ctx.losses, lossesNotListed: ctx.lossesNotListed))
        }
        return out
    }

    private struct Context {
        let repo: Repository
        let view: StoreIndexView
        /// Lengths from the headers of packs the index no longer names.
        let lengths: [StoreIndexView.BlobKey: UInt32]
        let bad: Set<StoreIndexView.BlobKey>
        let saver: BlobSaver
        let memo: Memo
        var losses: [String: String] = [:]
        var lossesNotListed = 0

        /// Records what `path` lost (listed up to the limit, counted beyond).
        mutating func record(_ path: [UInt8], _ lost: String) {
            guard losses.count < SnapshotRepairer.listedLossesPerSnapshot else { lossesNotListed += 1; return }
            losses[path.isEmpty ? "/" : String(decoding: path, as: UTF8.self)] = lost
            memo.log.append((path, lost))
        }

        func readable(_ type: BlobType, _ id: ChunkID) throws -> BlobLocation? {
            let k = StoreIndexView.BlobKey(id: id, type: type)
            guard !bad.contains(k), let loc = try view.location(k) else { return nil }
            // A delta whose base is lost is lost too.
            if let base = loc.base, try readable(.data, base) == nil { return nil }
            return loc
        }

        /// The repaired snapshot tree for `root` (`TreeWalker.rewrite`: iterative, so memory
        /// grows with the depth, not its square). A tree repaired before is not walked again:
        /// its losses are replayed under the path that leads to it here.
        mutating func rewriteTree(_ root: ChunkID) async throws -> ChunkID {
            // Per tree being walked: where its losses start in the memo's log, and the unlisted count then.
            var started: [(firstLoss: Int, notListed: Int)] = []
            return try await TreeWalker.rewrite(root, known: { id, path in
                guard let done = memo.trees[id] else { return nil }
                for i in done.losses { record(path + memo.log[i].path[done.pathLength...], memo.log[i].lost) }
                lossesNotListed += done.notListed
                return done.id
            }, load: { id, path in
                started.append((memo.log.count, lossesNotListed))
                guard let loc = try readable(.tree, id), let plain = try? await repo.readBlob(.tree, id, at: loc), let tree = try? Tree.decode(plain) else {
                    record(path, "directory lost (restored empty)")
                    return Tree(nodes: [])
                }
                return tree
            }, change: { path, node in
                // Intact content (most files, whatever their size) stays as it is.
                guard node.kind == .file, try await !isIntact(node.content) else { return }
                let (content, size, lost) = try await repairContent(node)
                if !lost.isEmpty {
                    node.content = content
                    node.size = size
                    record(path, lost.joined(separator: ","))
                }
            }, save: { id, path, nodes in
                for l in pendingLists { _ = try await saver.saveMetadata(.list, l.encodedListBlob()) }
                pendingLists.removeAll()
                let newID = try await saver.saveMetadata(.tree, Tree(nodes: nodes).encoded())
                let start = started.removeLast()
                memo.trees[id] = Memo.Rewritten(id: newID, losses: start.firstLoss..<memo.log.count, pathLength: path.count,
                                                notListed: lossesNotListed - start.notListed)
                return newID
            })
        }

        /// What stops a walk of damaged content: a list blob or chunk that cannot be read.
        private struct Lost: Error {}

        /// `readList` for walks of damaged content: a list blob the index does not name, or
        /// that cannot be read, is lost.
        private func readListOrLost(_ id: ChunkID) async throws -> [UInt8] {
            guard let loc = try readable(.list, id), let plain = try? await repo.readBlob(.list, id, at: loc) else { throw Lost() }
            return plain
        }

        /// Whether `error`, from walking damaged content, means a list blob is lost (one that
        /// cannot be read or decoded) rather than that the walk itself failed.
        private static func isLost(_ error: any Error) -> Bool {
            if error is Lost || error is FormatError { return true }
            if let e = error as? CairnError, case .damagedBlob = e { return true }
            return false
        }

        /// Whether every chunk of `ref` is readable, each list blob checked once.
        private func isIntact(_ ref: ContentRef) async throws -> Bool {
            // Lists entered and not yet left: when something below is lost, so are they.
            var open: [ChunkID] = []
            do {
                try await ListExpander.expand(ref, enter: { id in
                    guard let known = memo.intactLists[id] else { open.append(id); return true }
                    if !known { throw Lost() }
                    return false
                }, readList: { try await readListOrLost($0) }, leave: { id in
                    open.removeLast()
                    memo.intactLists[id] = true
                }, data: { ids in
                    if try !ids.allSatisfy({ try readable(.data, $0) != nil }) { throw Lost() }
                })
                return true
            } catch where Self.isLost(error) {
                for id in open { memo.intactLists[id] = false }
                return false
            }
        }

        /// Level-0 ids of a content ref in order, up to a lost list blob, marked nil, where
        /// they stop. Nil when there are more than `maximumChunksRebuilt` (only a forged file has).
        private func flatten(_ ref: ContentRef) async throws -> [ChunkID?]? {
            struct TooMany: Error {}
            var out: [ChunkID?] = []
            do {
                try await ListExpander.expand(ref, readList: { try await readListOrLost($0) }, data: { ids in
                    guard out.count + ids.count <= SnapshotRepairer.maximumChunksRebuilt else { throw TooMany() }
                    out += ids.map { Optional($0) }
                })
            } catch is TooMany {
                return nil
            } catch where Self.isLost(error) {
                out.append(nil)
            }
            return out
        }

        /// Rebuilds a file's content without its lost chunks. A lost chunk
        /// whose length the index still knows becomes zeros of that length. A
        /// single run of lost chunks of unknown length is zero-filled too when
        /// the file size pins its length; anything else truncates the file at
        /// the last good byte.
        private mutating func repairContent(_ node: Node) async throws -> (ContentRef, UInt64, [String]) {
            guard let ids = try await flatten(node.content) else {
                return (ContentRef(), 0, ["0-end lost (more than \(SnapshotRepairer.maximumChunksRebuilt) chunk references to rebuild)"])
            }
            enum Piece { case good(ChunkID, Int), zeros(Int), unknown }
            var pieces: [Piece] = []
            var known: UInt64 = 0
            var unknownRuns = 0
            var listLost = false
            for id in ids {
                guard let id else { listLost = true; break }
                if let loc = try readable(.data, id) { pieces.append(.good(id, Int(loc.rawLength))); known += UInt64(loc.rawLength) }
                else if let len = try view.location(.init(id: id, type: .data))?.rawLength ?? lengths[.init(id: id, type: .data)] {
                    pieces.append(.zeros(Int(len))); known += UInt64(len)
                }
                else {
                    if case .unknown? = pieces.last {} else { unknownRuns += 1 }
                    pieces.append(.unknown)
                }
            }
            let pinned: Int? = (!listLost && unknownRuns == 1 && node.size >= known) ? Int(node.size - known) : nil
            var builder = ContentBuilder()
            var lost: [String] = []
            var offset: UInt64 = 0
            var i = 0
            func append(_ id: ChunkID, _ len: Int, _ b: inout ContentBuilder) -> [ContentRef] { b.append(id, length: len) }
            while i < pieces.count {
                switch pieces[i] {
                case .good(let id, let len):
                    for l in append(id, len, &builder) { _ = try await saver.saveMetadata(.list, l.encodedListBlob()) }
                    offset += UInt64(len)
                case .zeros(let len):
                    try await appendZeros(len, builder: &builder)
                    lost.append("\(offset)-\(offset + UInt64(len) - 1) zero-filled")
                    offset += UInt64(len)
                case .unknown:
                    while i + 1 < pieces.count, case .unknown = pieces[i + 1] { i += 1 }
                    guard let len = pinned else {
                        lost.append("\(offset)-end truncated")
                        return finish(&builder, lost)
                    }
                    if len > 0 { try await appendZeros(len, builder: &builder) }
                    lost.append("\(offset)-\(offset + UInt64(max(len, 1)) - 1) zero-filled")
                    offset += UInt64(len)
                }
                i += 1
            }
            if listLost { lost.append("\(offset)-end truncated") }
            return finish(&builder, lost)
        }

        private mutating func finish(_ builder: inout ContentBuilder, _ lost: [String]) -> (ContentRef, UInt64, [String]) {
            let (lists, root) = builder.finish()
            pendingLists += lists
            return (root, builder.size, lost)
        }

        /// List blobs produced when a builder finishes, stored before the tree.
        var pendingLists: [ContentRef] = []

        private func appendZeros(_ length: Int, builder: inout ContentBuilder) async throws {
            // Zeros go in chunks no larger than the largest chunk this repository makes.
            let maxChunk = repo.config.profiles.map(\.maximumSize).max() ?? (1 << 20)
            var left = length
            while left > 0 {
                let n = min(left, maxChunk)
                let zeros = [UInt8](repeating: 0, count: n)
                let zid = SHA256.id(zeros)
                if try saver.claim(zid, type: .data) {
                    try await saver.add(sealed: try repo.codec.seal(zeros, type: .data, id: zid), type: .data, id: zid, rawLength: n)
                }
                for l in builder.append(zid, length: n) { _ = try await saver.saveMetadata(.list, l.encodedListBlob()) }
                left -= n
            }
        }
    }
}
