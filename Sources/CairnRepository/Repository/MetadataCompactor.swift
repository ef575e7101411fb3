import CairnCrypto
import CairnFormat
import CairnIndex
import CairnStorage

/// Keeps the number of small metadata objects bounded as a repository ages,
/// so that what every command lists and a new machine reads follows the
/// size of the metadata, not the number of commits (format-spec §10 and
/// v2.md; Docs/performance.md, "Cost independent of history").
///
/// Every backup commits one index object and one snapshot object (a WAL push
/// every minute makes 1,440 of each a day). After its commit, under its lock,
/// a writer runs `run()`: at most one merge per namespace, of objects of
/// similar size (size-tiered, as an LSM tree compacts): index objects into
/// one index object that `supersedes` them, snapshot objects (single
/// snapshots and catalogues) into one catalogue, forget records into one
/// merged record; then it deletes what it merged. Each merged object holds
/// everything it replaces and is stored before anything is deleted, so a
/// writer killed at any instant leaves duplicates, never a loss, and two
/// writers merging the same objects at once leave two copies, of which the
/// next merge keeps one (`foldDuplicateSnapshotObjects`,
/// `foldDuplicateIndexObjects`). Objects are merged only when read and
/// understood whole (format-spec README: a reader never rewrites what it
/// cannot decode).
public struct MetadataCompactor: Sendable {
    let repo: Repository

    /// When index objects are merged (`Policy.index`; tests use smaller ones).
    public var indexPolicy = Policy.index

    public init(repo: Repository) { self.repo = repo }

    /// When objects of one namespace are merged.
    public struct Policy: Sendable, Equatable {
        /// Objects of one tier merged at once (at least).
        public var fanIn: Int
        /// Objects smaller than this are tier 0; each tier above holds objects `fanIn` times larger.
        public var baseBytes: Int
        /// The largest merged object: objects are picked while their total stays under it.
        public var capBytes: Int
        /// The most objects merged at once.
        public var maximumInputs: Int

        public init(fanIn: Int, baseBytes: Int, capBytes: Int, maximumInputs: Int? = nil) {
            self.fanIn = fanIn; self.baseBytes = baseBytes; self.capBytes = capBytes
            self.maximumInputs = maximumInputs ?? 4 * fanIn
        }

        /// Index objects: a WAL push's is a few hundred bytes to a few KiB; merged ones stay
        /// under 8 MiB (about 190,000 blob entries), so a cache reloads at most that at once.
        public static let index = Policy(fanIn: 8, baseBytes: 8 << 10, capBytes: 8 << 20)
        /// Snapshot objects: a WAL push's snapshot is about 500 bytes; a full catalogue
        /// (4 MiB) holds about 9,000 of them.
        public static let snapshots = Policy(fanIn: 16, baseBytes: 16 << 10, capBytes: 4 << 20)
        /// Forget records: one per forget (a day's WAL retention names 1,440 snapshots, 46 KiB).
        public static let forgetRecords = Policy(fanIn: 8, baseBytes: 64 << 10, capBytes: 16 << 20)

        /// The tier of an object of `size` bytes.
        func tier(_ size: Int) -> Int {
            var t = 0, bound = baseBytes
            while size >= bound && bound < Int.max / fanIn { t += 1; bound *= fanIn }
            return t
        }
    }

    /// What to merge next among `objects` (name, size), or nil: the smallest
    /// objects of the lowest tier that holds at least `fanIn` objects, while
    /// their total stays under the cap. Pure, so that the bound is tested
    /// apart from any store.
    public static func select(_ objects: [(name: String, size: Int)], policy: Policy) -> [String]? {
        var tiers: [Int: [(name: String, size: Int)]] = [:]
        for o in objects where o.size < policy.capBytes { tiers[policy.tier(o.size), default: []].append(o) }
        for t in tiers.keys.sorted() {
            let members = tiers[t]!.sorted { ($0.size, $0.name) < ($1.size, $1.name) }
            guard members.count >= policy.fanIn else { continue }
            var pick: [String] = [], total = 0
            for m in members where pick.count < policy.maximumInputs && total + m.size <= policy.capBytes {
                pick.append(m.name); total += m.size
            }
            if pick.count >= 2 { return pick }
        }
        return nil
    }

    /// What one run merged.
    public struct Outcome: Sendable, Equatable {
        /// Index objects merged into one (0: none).
        public var indexObjectsMerged = 0
        /// Snapshot objects (single snapshots and catalogues) merged into one catalogue.
        public var snapshotObjectsMerged = 0
        /// Forget records merged into one.
        public var forgetRecordsMerged = 0
        public init() {}
    }

    /// At most one merge per namespace. Snapshot objects and forget records
    /// are merged only in a repository of format 2 (format 1 has no
    /// catalogue); index objects in both (format 1 defines `supersedes`).
    public func run() async throws -> Outcome {
        // A store that refused a delete (append-only credentials, a read-only copy source): every
        // merge would only add objects, so none is tried for a day.
        if let until = try repo.index.meta(Self.pausedUntilKey).flatMap({ Int64($0) }), Clock.nowNanos() < until { return Outcome() }
        var out = Outcome()
        out.indexObjectsMerged = try await mergeIndexObjects()
        if repo.formatVersion >= 2 {
            out.snapshotObjectsMerged = try await mergeSnapshotObjects()
            out.forgetRecordsMerged = try await mergeForgetRecords()
        }
        return out
    }

    /// The cache's meta key: until when (ns since the epoch) merging is paused.
    static let pausedUntilKey = "metadata-merge-paused-until"

    /// Deletes an object a merged one now holds. A store that refuses (or
    /// fails) pauses merging for a day before the error goes up: what was
    /// merged is stored twice, which loses nothing.
    private func deleteMerged(_ key: ObjectKey) async throws {
        do {
            try await repo.store.delete(key)
        } catch {
            try? repo.index.setMeta(Self.pausedUntilKey, String(Clock.nowNanos() &+ 86_400 * 1_000_000_000))
            throw error
        }
    }

    // MARK: index objects

    func mergeIndexObjects() async throws -> Int {
        let objects = try repo.index.indexObjects()
        if let folded = try await foldDuplicateIndexObjects(objects) { return folded }
        guard let pick = Self.select(objects, policy: indexPolicy) else { return 0 }
        var packs: [IndexedPack] = [], seen = Set<PackID>(), merged: [String] = [], total = 0
        try await repo.fetchInOrder(pick.map { ObjectKey(.index, $0) }) { key, fetched in
            // Gone (merged by another writer) or unreadable: left alone, never deleted unread.
            guard case .bytes(let bytes) = fetched else { return }
            // The cap holds by the bytes read, not by the cache's word: a cache an older `index
            // rebuild` filled says 0 bytes for every object, and merging 32 of 8 MiB made objects
            // larger than any reader accepts (MetadataObjects.maximumSize). Such an object is left
            // alone, with its real size recorded so that it is not picked again.
            guard total + bytes.count <= indexPolicy.capBytes else {
                try repo.index.setIndexObjectSize(key.name, bytes.count)
                return
            }
            guard MetadataObjects.matchesName(key, bytes),
                  let delta = try? IndexDelta.decode(try repo.keys.openObject(.index, bytes)) else { return }
            total += bytes.count
            for p in delta.packs where seen.insert(p.id).inserted { packs.append(p) }
            merged.append(key.name)
        }
        guard merged.count >= 2 else { return 0 }
        let (name, sealed) = try await IndexDeltaWriter.store(IndexDelta(packs: packs, supersedes: merged.compactMap { IndexObjectID(hex: $0) }), in: repo)
        let key = ObjectKey(.index, name)
        try repo.index.markIndexed(packs, indexObject: name, size: sealed.count)
        for n in merged { try await deleteMerged(ObjectKey(.index, n)) }
        // The merged object may be gone already: another writer's fold can take it for a copy of
        // one of its inputs (it names the same packs when the other inputs add none) and delete it
        // relying on that input, which this merge has just deleted relying on it. Whichever of the
        // two looks last sees the other's delete; here that puts the merged object back.
        if try await putBackIfGone(key, as: key, sealed) {
            try repo.index.markIndexed(packs, indexObject: name, size: sealed.count)
        }
        try repo.index.forgetIndexObjects(merged)
        return merged.count
    }

    /// Copies: index objects naming exactly the same packs, which writers that merged the same
    /// index objects at once each stored (the same delta sealed under different nonces). All but the
    /// one with the smallest name are deleted and nothing is written, so writers doing this at once
    /// keep the same object; as with snapshot objects, copies merged like other objects stayed
    /// near the size cap or multiplied (Docs/performance.md, the long haul). The cache only
    /// proposes copies (same size, same member packs); each is deleted only after both it and the
    /// one kept were read from the store and name the same packs: a delete made on the cache's
    /// word alone lost index objects in the long haul, where writers share a cache that others
    /// change under them. Returns how many copies went, or nil when there are none.
    func foldDuplicateIndexObjects(_ objects: [(name: String, size: Int)]) async throws -> Int? {
        // Copies seal the same plaintext: the same size; the packs they name decide. Size 0: not known.
        let groups = Dictionary(grouping: objects.filter { $0.size > 0 }, by: \.size)
        for group in groups.values.filter({ $0.count >= 2 }).sorted(by: { $0[0].size < $1[0].size }) {
            var byMembers: [Set<Int64>: [String]] = [:]
            for name in group.map(\.name).sorted() {
                let members = try repo.index.indexObjectMembers(name)
                if !members.isEmpty { byMembers[members, default: []].append(name) }
            }
            let folded = try await deleteVerifiedCopies(byMembers.values, namespace: .index,
                                                        verify: { try await storedCopies(of: $0, among: $1) },
                                                        forget: { try repo.index.forgetIndexObjects($0) })
            if let folded { return folded }
        }
        return nil
    }

    /// The deletes of a fold of either kind, in the order its safety needs. Each of `sets` holds
    /// names the cache takes for copies, the first kept (names were added in order); `verify`
    /// returns those of the others the store shows to be copies of it, with their bytes. The
    /// verified copies are deleted, a kept object gone meanwhile is stored again from one of them,
    /// and then `forget` drops the copies from the cache. Returns how many went, nil when none.
    private func deleteVerifiedCopies(_ sets: some Sequence<[String]>, namespace: ObjectNamespace,
                                      verify: (_ kept: String, _ candidates: [String]) async throws -> [(name: String, bytes: [UInt8])],
                                      forget: ([String]) throws -> Void) async throws -> Int? {
        var folds: [(kept: String, copies: [(name: String, bytes: [UInt8])])] = []
        for names in sets where names.count >= 2 {
            let copies = try await verify(names[0], Array(names.dropFirst()))
            if !copies.isEmpty { folds.append((names[0], copies)) }
        }
        guard !folds.isEmpty else { return nil }
        let copies = folds.flatMap { $0.copies.map(\.name) }.sorted()
        for name in copies { try await deleteMerged(ObjectKey(namespace, name)) }
        // A kept object gone now was deleted by another writer's merge relying on one of these
        // copies (its merged object, naming the same packs or holding the same snapshots as its
        // input); whichever of the two looks last sees the other's delete: here one copy goes back.
        for fold in folds {
            guard let copy = fold.copies.first else { continue }
            try await putBackIfGone(ObjectKey(namespace, fold.kept), as: ObjectKey(namespace, copy.name), copy.bytes)
        }
        try forget(copies)
        return copies.count
    }

    /// Stores `bytes` under `key` when the object `relied` is gone from the store (a merge or a
    /// fold relied on it while deleting what it replaces); returns whether it did.
    @discardableResult
    private func putBackIfGone(_ relied: ObjectKey, as key: ObjectKey, _ bytes: [UInt8]) async throws -> Bool {
        guard try await repo.store.size(relied) == nil else { return false }
        try await repo.store.put(key, bytes)
        return true
    }

    /// Those of `candidates` whose index delta in the store names exactly the packs that `kept`'s
    /// names (both read and opened now), with their bytes; none when `kept` is gone or unreadable.
    private func storedCopies(of kept: String, among candidates: [String]) async throws -> [(name: String, bytes: [UInt8])] {
        var packs: [String: Set<PackID>] = [:], read: [String: [UInt8]] = [:]
        try await repo.fetchInOrder(([kept] + candidates).map { ObjectKey(.index, $0) }) { key, fetched in
            guard case .bytes(let bytes) = fetched, MetadataObjects.matchesName(key, bytes),
                  let delta = try? IndexDelta.decode(try repo.keys.openObject(.index, bytes)) else { return }
            packs[key.name] = Set(delta.packs.map(\.id))
            read[key.name] = bytes
        }
        guard let keptPacks = packs[kept], !keptPacks.isEmpty else { return [] }
        return candidates.compactMap { c in packs[c] == keptPacks ? read[c].map { (c, $0) } : nil }
    }

    // MARK: snapshot objects

    func mergeSnapshotObjects() async throws -> Int {
        // Only objects whose every snapshot the cache holds (forgotten ones aside) can be rewritten from it.
        // Uncounted: the fold counts the few objects that share a size, the policy needs sizes only.
        let objects = try repo.index.snapshotObjects(counted: false).filter(\.complete)
        if let folded = try await foldDuplicateSnapshotObjects(objects) { return folded }
        guard let pick = Self.select(objects.map { ($0.name, Int($0.size)) }, policy: .snapshots) else { return 0 }
        var rows: [SnapshotRow] = []
        for name in pick { rows += try repo.index.snapshotRows(inObject: name) }
        let catalogue = SnapshotCatalogue(entries: rows.compactMap { r in SnapshotID(hex: r.id).map { .init(id: $0, plaintext: r.plaintext) } })
        guard catalogue.entries.count <= SnapshotCatalogue.maximumEntries else { return 0 }
        let (name, sealed) = try await repo.storeCatalogue(catalogue, rows: rows)
        for n in pick where n != name { try await deleteMerged(ObjectKey(.snapshots, n)) }
        // Gone meanwhile: another writer's fold took it for a copy of one of its inputs (as for index objects).
        try await putBackIfGone(ObjectKey(.snapshots, name), as: ObjectKey(.snapshots, name), sealed)
        try repo.index.removeSnapshotObjects(pick.filter { $0 != name })
        return pick.count
    }

    /// Copies: objects holding exactly the same snapshots, which writers that merged the same
    /// objects at once each stored. All but the one with the smallest name are deleted and nothing
    /// is written, so writers doing this at once keep the same object. Merged like other objects,
    /// copies stayed near the size cap or in a tier of fewer than `fanIn` objects, and when as many
    /// writers as `fanIn` merged the same pick at once, each stored one more copy: a merge storm
    /// (Docs/performance.md, the long haul of session 5). The cache only proposes copies; each is
    /// deleted only after it and the one kept were read from the store and hold the same
    /// snapshots. Returns how many copies went, or nil when there are none.
    func foldDuplicateSnapshotObjects(_ objects: [LoadedSnapshotObject]) async throws -> Int? {
        // Copies seal the same plaintext: the same size and snapshot count; their members decide.
        // Only objects sharing a size with another are counted (`objects` may come uncounted).
        var counted: [LoadedSnapshotObject] = []
        for sameSize in Dictionary(grouping: objects, by: \.size).values where sameSize.count >= 2 {
            for var o in sameSize {
                o.snapshots = try repo.index.snapshotCount(inObject: o.name)
                counted.append(o)
            }
        }
        let groups = Dictionary(grouping: counted.filter { $0.snapshots > 0 }) { "\($0.size) \($0.snapshots)" }
        for group in groups.values.filter({ $0.count >= 2 }).sorted(by: { $0[0].size < $1[0].size }) {
            var byMembers: [Set<String>: [String]] = [:]
            for name in group.map(\.name).sorted() {
                byMembers[Set(try repo.index.snapshotRows(inObject: name).map(\.id)), default: []].append(name)
            }
            let folded = try await deleteVerifiedCopies(byMembers.values, namespace: .snapshots,
                                                        verify: { try await storedCatalogueCopies(of: $0, among: $1) },
                                                        forget: { try repo.index.removeSnapshotObjects($0) })
            if let folded { return folded }
        }
        return nil
    }

    /// Those of `candidates` that are catalogues in the store holding exactly the snapshots the
    /// catalogue `kept` holds there (all read and opened now); none when `kept` is gone or
    /// unreadable. The cache's member rows only propose copies: writers sharing a cache that
    /// others change under them lost WAL snapshots in the long haul when a fold believed them.
    private func storedCatalogueCopies(of kept: String, among candidates: [String]) async throws -> [(name: String, bytes: [UInt8])] {
        var held: [String: Set<SnapshotID>] = [:], read: [String: [UInt8]] = [:]
        try await repo.fetchInOrder(([kept] + candidates).map { ObjectKey(.snapshots, $0) }) { key, fetched in
            guard case .bytes(let bytes) = fetched, let opened = try? repo.keys.openObjectVersioned(.snapshot, bytes),
                  opened.0 == 2, let catalogue = try? SnapshotCatalogue.decode(opened.1) else { return }
            held[key.name] = Set(catalogue.entries.map(\.id))
            read[key.name] = bytes
        }
        guard let keptIDs = held[kept], !keptIDs.isEmpty else { return [] }
        return candidates.compactMap { c in held[c] == keptIDs ? read[c].map { (c, $0) } : nil }
    }

    // MARK: forget records

    func mergeForgetRecords() async throws -> Int {
        guard let pick = Self.select(try repo.index.forgetRecords(), policy: .forgetRecords) else { return 0 }
        var entries: [ForgetRecordSet.Entry] = [], merged: [String] = []
        try await repo.fetchInOrder(pick.map { ObjectKey(.forgotten, $0) }) { key, fetched in
            guard case .bytes(let bytes) = fetched, MetadataObjects.matchesName(key, bytes),
                  let e = try? ForgetRecords.decode(repo, bytes) else { return }
            entries += e
            merged.append(key.name)
        }
        guard merged.count >= 2 else { return 0 }
        let set = ForgetRecordSet(entries: entries)
        guard set.entries.count <= ForgetRecordSet.maximumEntries else { return 0 }
        let sealed = try repo.keys.sealObject(.forgetRecord, set.encoded(), version: 2)
        let name = Hex.encode(SHA256.hash(sealed))
        try await repo.store.put(ObjectKey(.forgotten, name), sealed)
        try repo.index.addForgetRecord(name, entries: set.entries, size: sealed.count)
        for n in merged where n != name { try await deleteMerged(ObjectKey(.forgotten, n)) }
        try repo.index.removeForgetRecordNames(merged.filter { $0 != name })
        return merged.count
    }
}

extension Repository {
    /// Stores a snapshot catalogue (envelope version 2, format-spec v2.md) and
    /// records it in the cache with `rows`, the snapshots it holds (`complete`:
    /// every entry of it is among them); returns its name.
    package func saveCatalogue(_ catalogue: SnapshotCatalogue, rows: [SnapshotRow], complete: Bool = true) async throws -> String {
        try await storeCatalogue(catalogue, rows: rows, complete: complete).name
    }

    /// `saveCatalogue`, returning the stored bytes too (a merge puts them back if a fold deleted them).
    package func storeCatalogue(_ catalogue: SnapshotCatalogue, rows: [SnapshotRow], complete: Bool = true) async throws -> (name: String, sealed: [UInt8]) {
        let sealed = try keys.sealObject(.snapshot, catalogue.encoded(), version: 2)
        if let cap = MetadataObjects.maximumSize(.snapshots), UInt64(sealed.count) > cap {
            throw CairnError.other("a snapshot catalogue would be \(sealed.count) bytes, more than the \(cap) a snapshot object may have")
        }
        let name = Hex.encode(SHA256.hash(sealed))
        try await store.put(ObjectKey(.snapshots, name), sealed)
        let ids = Set(catalogue.entries.map(\.id.hex))
        let held = rows.filter { ids.contains($0.id) }
        try index.addSnapshotObject(LoadedSnapshotObject(name: name, kind: .catalogue, size: Int64(sealed.count), snapshots: held.count,
                                                         complete: complete), rows: held)
        return (name, sealed)
    }

    /// Replaces catalogue `name` by one holding `entries` (when there are
    /// any), stored before the old one is deleted, and brings the cache in
    /// step. Used by forget and prune under the exclusive lock, after the
    /// forget record naming what goes is stored (format-spec §20, v2.md):
    /// stopped in between, the old catalogue stays and the record hides what
    /// it should no longer hold.
    package func replaceCatalogue(_ name: String, with entries: [SnapshotCatalogue.Entry]) async throws {
        if !entries.isEmpty {
            var rows: [SnapshotRow] = []
            for e in entries {
                if let s = try? Snapshot.decode(e.plaintext) { rows.append(SnapshotRow(id: e.id.hex, snapshot: s, plaintext: e.plaintext)) }
            }
            _ = try await saveCatalogue(SnapshotCatalogue(entries: entries), rows: rows, complete: rows.count == entries.count)
        }
        try await store.delete(ObjectKey(.snapshots, name))
        try index.removeSnapshotObjects([name])
    }
}
