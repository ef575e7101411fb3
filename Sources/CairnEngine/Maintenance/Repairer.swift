import CairnCrypto
import CairnFormat
import CairnIndex
import CairnRepository
import CairnStorage
#if canImport(Glibc)
import Glibc
#endif

/// `cairn repair --from URL`: rewrites every damaged or missing blob found
/// by a read-data scrub into new packs, taking it from the damaged pack
/// itself when that copy still verifies, else from another repository (by
/// blob id, which is the SHA-256 of the plaintext and so the same in any
/// repository), else by re-chunking the same file from the other
/// repository's snapshots. Then the damaged packs leave the index.
public struct Repairer {
    let repo: Repository
    public let progress: WorkProgress

    public init(repo: Repository, progress: WorkProgress = WorkProgress()) { self.repo = repo; self.progress = progress }

    public struct Result: Sendable {
        /// Blobs copied out of damaged packs because their copy there still verified.
        public var salvaged = 0
        /// Blobs fetched from the other repository by id.
        public var fetched = 0
        /// Blobs recreated by re-chunking a file from the other repository.
        public var rechunked = 0
        /// Blobs found nowhere (ids) that snapshots use: `cairn repair snapshots` handles them.
        public var unrecoverable: [String] = []
        /// Damaged blobs no snapshot uses, dropped with their packs.
        public var droppedUnused = 0
        /// Packs removed from the index (and deleted when nothing in them was lost).
        public var droppedPacks: [String] = []
    }

    public func repair(report: ScrubReport, from source: Repository?) async throws -> Result {
        try await repo.checkMayDelete(.index, before: "repair")
        var result = Result()
        let view = try await StoreIndexView.load(repo)
        let damagedPacks = Set(report.packProblems.compactMap { PackID(hex: $0.pack) })
        var needed = Set<StoreIndexView.BlobKey>()
        for b in report.blobProblems {
            guard let id = ChunkID(hex: b.blob), let t = BlobType.named(b.type) else { continue }
            needed.insert(.init(id: id, type: t))
        }
        let saver = BlobSaver(repo: repo)
        // 1. Every blob of a damaged pack must move; the ones that still verify move from there.
        for pack in damagedPacks.sorted() {
            guard let entries = try view.pack(pack)?.entries else { continue }
            for e in entries {
                let key = StoreIndexView.BlobKey(id: e.id, type: e.type)
                if needed.contains(key) { continue }
                // Readers use a copy in another, sound pack: nothing to move.
                if let chosen = try view.location(key), chosen.pack != pack, !damagedPacks.contains(chosen.pack) { continue }
                if let plain = try? await repo.readBlob(e.type, e.id, at: BlobLocation(pack: pack, offset: e.offset, length: e.length, rawLength: e.rawLength, base: e.base)) {
                    try await saver.storeAgain(plain, type: e.type, id: e.id)
                    result.salvaged += 1
                } else {
                    needed.insert(key)
                }
            }
        }
        // 2. The rest from the other repository, by id.
        if let source {
            for key in needed.sorted(by: { $0.id < $1.id }) {
                guard let loc = try source.index.lookup(key.id, type: key.type),
                      let plain = try? await source.readBlob(key.type, key.id, at: loc) else { continue }
                try await saver.storeAgain(plain, type: key.type, id: key.id)
                needed.remove(key)
                result.fetched += 1
            }
            // 3. Data blobs the other repository chunked differently: re-chunk the same files.
            if needed.contains(where: { $0.type == .data }) {
                result.rechunked = try await rechunk(report: report, source: source, needed: &needed, saver: saver)
            }
        }
        try await saver.finish()
        // A blob no snapshot uses is not lost when it goes (an unused delta whose base a
        // prune removed, say): it leaves the index with its pack.
        let usedByAffected = Set(report.affected.flatMap(\.blobs))
        let lost = needed.filter { usedByAffected.contains($0.id.hex) }
        result.droppedUnused = needed.count - lost.count
        needed = lost
        result.unrecoverable = needed.map(\.id.hex).sorted()

        // 4. Drop the damaged packs: one index delta naming everything else.
        if !damagedPacks.isEmpty {
            try await repo.sync()
            let current = try await StoreIndexView.load(repo)
            try await repo.rewriteIndex { writer in
                for id in current.packIDs.sorted() where !damagedPacks.contains(id) {
                    if let p = try current.pack(id) { try await writer.add(p) }
                }
            }
            var lostPacks = Set<PackID>()
            for k in needed { if let p = try view.location(k)?.pack { lostPacks.insert(p) } }
            for p in damagedPacks.sorted() {
                result.droppedPacks.append(p.hex)
                // Keep the bytes of a pack that still holds the only (damaged) copy of something.
                if !lostPacks.contains(p) { try await repo.store.delete(ObjectKey(.data, p.hex)) }
            }
        }
        return result
    }

    /// Restores each affected file from the other repository's snapshot of
    /// the same name and path, cuts it with each of this repository's chunker
    /// profiles, and keeps the chunks that are needed.
    private func rechunk(report: ScrubReport, source: Repository, needed: inout Set<StoreIndexView.BlobKey>, saver: BlobSaver) async throws -> Int {
        var count = 0
        var tried = Set<String>()
        for a in report.affected where !a.ranges.isEmpty {
            let wanted = Set(a.blobs.compactMap { ChunkID(hex: $0) }).filter { needed.contains(.init(id: $0, type: .data)) }
            if wanted.isEmpty || !tried.insert("\(a.name)\u{0}\(a.path)").inserted { continue }
            for record in try source.snapshots(name: a.name).reversed() {
                guard let node = try await find(a.path, in: record, repo: source), node.kind == .file else { continue }
                let tmp = "/tmp/cairn-repair-\(UInt64.random(in: 0...UInt64.max))"
                let fd = open(tmp, O_RDWR | O_CREAT | O_EXCL, 0o600)
                guard fd >= 0 else { throw CairnError.io("cannot create a temporary file for repair") }
                defer { close(fd); unlink(tmp) }
                do {
                    try await ContentReader(repo: source, window: 16).read(node.content) { try writeAll(fd, $0, path: tmp) }
                } catch { continue }
                for profile in repo.config.profiles {
                    lseek(fd, 0, SEEK_SET)
                    let reader = ChunkReader(fd: fd, chunker: try FastCDC(profile.parameters(seed: repo.chunkerSeed)), path: tmp)
                    while let chunk = try reader.next() {
                        let id = SHA256.id(chunk)
                        let key = StoreIndexView.BlobKey(id: id, type: .data)
                        if needed.contains(key) {
                            try await saver.storeAgain(chunk, type: .data, id: id)
                            needed.remove(key)
                            count += 1
                        }
                    }
                }
                if !wanted.contains(where: { needed.contains(.init(id: $0, type: .data)) }) { break }
            }
        }
        return count
    }

    private func find(_ path: String, in record: SnapshotRecord, repo: Repository) async throws -> Node? {
        let tree = try await repo.loadTree(record.snapshot.root)
        return try await TreeWalker.node(at: path.split(separator: "/").map { Array($0.utf8) }, in: tree, load: { try await repo.loadTree($0) })
    }
}

extension BlobType {
    /// The name used in reports ("data", "tree", "list").
    static func named(_ s: String) -> BlobType? { allCases.first { "\($0)" == s } }
}
