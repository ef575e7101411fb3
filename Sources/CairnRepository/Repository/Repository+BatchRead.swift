import CairnFormat
import CairnIndex
import CairnStorage
#if canImport(Glibc)
import Glibc
#endif

/// One blob to read and where the index puts it.
package struct BlobRead: Sendable {
    package let id: ChunkID
    package let location: BlobLocation

    package init(id: ChunkID, location: BlobLocation) { self.id = id; self.location = location }
}

/// Data chunks with their index entries and those of the delta bases they
/// need: one index pass for many windows of a restore.
package struct LocatedChunks: Sendable {
    package var reads: [BlobRead] = []
    package var bases: [ChunkID: BlobLocation] = [:]

    package init() {}
}

extension Repository {
    /// Looks up `ids` and the delta bases they name, with the checks `readBlob`
    /// makes: a chunk missing from the index, a base missing or itself a delta.
    package func locateDataChunks(_ ids: [ChunkID]) async throws -> LocatedChunks {
        switch try locateDataChunks(ids, final: false) {
        case .located(let out): return out
        // A miss in the local cache: check against the store once (`locate`), then look again.
        case .missing(let id): try await reloadAfterMiss(id)
        }
        guard case .located(let out) = try locateDataChunks(ids, final: true) else { throw CairnError.other("unreachable") }
        return out
    }

    private enum Located { case located(LocatedChunks), missing(ChunkID) }

    /// One pass of `locateDataChunks`; a miss is returned (or, when `final`, thrown).
    private func locateDataChunks(_ ids: [ChunkID], final: Bool) throws -> Located {
        let found = try index.lookup(ids, type: .data)
        var out = LocatedChunks()
        out.reads.reserveCapacity(ids.count)
        var baseIDs: [ChunkID] = [], users: [BlobRead] = []
        var asked = Set<ChunkID>()
        for i in 0..<ids.count {
            guard let loc = found[i] else {
                if final { throw CairnError.missingBlob(ids[i].hex) }
                return .missing(ids[i])
            }
            if let why = codec.limits.violation(.data, rawLength: loc.rawLength, storedLength: UInt64(loc.length)) {
                throw CairnError.damagedBlob(blob: ids[i].hex, pack: loc.pack.hex, reason: why)
            }
            let read = BlobRead(id: ids[i], location: loc)
            out.reads.append(read)
            if let b = loc.base, asked.insert(b).inserted { baseIDs.append(b); users.append(read) }
        }
        guard !baseIDs.isEmpty else { return .located(out) }
        let baseLocations = try index.lookup(baseIDs, type: .data)
        for i in 0..<baseIDs.count {
            let user = users[i]
            if baseLocations[i] == nil && !final { return .missing(baseIDs[i]) }
            let loc = try DeltaBaseRule.usable(baseIDs[i], at: baseLocations[i], forDelta: user.id, in: user.location.pack)
            if let why = codec.limits.violation(.data, rawLength: loc.rawLength, storedLength: UInt64(loc.length)) {
                throw CairnError.damagedBlob(blob: user.id.hex, pack: user.location.pack.hex, reason: "its delta base \(baseIDs[i].short) is damaged: \(why)")
            }
            out.bases[baseIDs[i]] = loc
        }
        return .located(out)
    }

    /// Reads, verifies and returns the data chunks `reads`, in order, with the
    /// same checks and errors as `readBlob` one by one. The restore path:
    ///
    /// - each chunk opened once however often it repeats in the batch (runs of zeros), and a
    ///   repeated one not again in later batches (`repeatedChunks`);
    /// - delta bases gathered first, from the base cache or read as a batch;
    /// - neighbouring blobs of one pack read with one ranged read, not one
    ///   open/pread/close each;
    /// - blobs opened on several tasks, so a batch uses every core.
    /// - Parameter baseLocations: where the bases of the delta blobs among `reads` are (from `locateDataChunks`).
    package func readDataChunks(_ reads: ArraySlice<BlobRead>, baseLocations: [ChunkID: BlobLocation]) async throws -> [[UInt8]] {
        var items: [BlobRead] = []
        var slot: [Int] = []
        var seen: [ChunkID: Int] = [:]
        var repeated = Set<Int>()
        slot.reserveCapacity(reads.count)
        for read in reads {
            if let k = seen[read.id] { slot.append(k); repeated.insert(k); continue }
            seen[read.id] = items.count
            slot.append(items.count)
            items.append(read)
        }
        // A chunk an earlier batch repeated was verified then: its plaintext is kept (`repeatedChunks`).
        var plain = items.map { repeatedChunks.cached($0.id) }
        let missing = plain.indices.filter { plain[$0] == nil }
        let toRead = missing.map { items[$0] }
        let bases = try await deltaBases(for: toRead, locations: baseLocations)
        let read = try await readBlobs(toRead, type: .data, bases: bases)
        for (k, i) in missing.enumerated() {
            plain[i] = read[k]
            if repeated.contains(i) { repeatedChunks.insert(items[i].id, read[k]) }
        }
        return slot.map { plain[$0] ?? [] }
    }

    /// The verified plaintexts of the delta bases `items` need, by id.
    private func deltaBases(for items: [BlobRead], locations: [ChunkID: BlobLocation]) async throws -> [ChunkID: [UInt8]] {
        var out: [ChunkID: [UInt8]] = [:]
        // Each base to read with the first blob that needs it: errors name that blob, as readBlob does.
        var reads: [BlobRead] = [], users: [BlobRead] = []
        var asked = Set<ChunkID>()
        for item in items {
            guard let b = item.location.base, asked.insert(b).inserted else { continue }
            if let hit = self.bases.cached(b) { out[b] = hit; continue }
            guard let loc = locations[b] else {
                throw CairnError.damagedBlob(blob: item.id.hex, pack: item.location.pack.hex, reason: "its delta base \(b.hex) was not looked up")
            }
            reads.append(BlobRead(id: b, location: loc))
            users.append(item)
        }
        guard !reads.isEmpty else { return out }
        let plains = try await readBlobs(reads, type: .data, bases: [:]) { [users] i, error in
            CairnError.damagedBlob(blob: users[i].id.hex, pack: users[i].location.pack.hex,
                                   reason: "its delta base cannot be read: \(describe(error))")
        }
        for i in 0..<reads.count {
            out[reads[i].id] = plains[i]
            self.bases.insert(reads[i].id, plains[i])
        }
        return out
    }

    /// Reads the blob at `loc`. A delta blob's base is found with `baseLocation`
    /// (the local index by default; a scrub passes the store's own index).
    /// The same read as a batch's (`readBlobs`), of one blob.
    public func readBlob(_ type: BlobType, _ id: ChunkID, at loc: BlobLocation,
                         baseLocation: ((ChunkID) throws -> BlobLocation?)? = nil) async throws -> [UInt8] {
        let codec = self.codec
        return try await readBlob(type, id, at: loc, baseLocation: baseLocation) { sealed, base in
            try codec.open(sealed, type: type, id: id, rawLength: loc.rawLength, base: base)
        }
    }

    /// A blob as this repository stores it, proven good like `readBlob`: its
    /// content, its encoded plaintext (for `BlobCodec.sealEncoded` in another
    /// repository) and the delta base it names.
    public func readStoredBlob(_ type: BlobType, _ id: ChunkID, at loc: BlobLocation) async throws -> (chunk: [UInt8], encoded: [UInt8], base: ChunkID?) {
        let codec = self.codec
        let (chunk, encoded) = try await readBlob(type, id, at: loc, baseLocation: nil) { sealed, base in
            try codec.openKeepingEncoding(sealed, type: type, id: id, rawLength: loc.rawLength, base: base)
        }
        return (chunk, encoded, loc.base)
    }

    /// Where `base`, the delta base the blob `delta` (stored in `pack`) names, is stored, as every
    /// reader of a delta requires it (`DeltaBaseRule`): named by an index (the cache reloaded once
    /// after a miss, `locate`) and stored whole; else the damage, named on `delta`. The copy reads
    /// its source's bases through here, as `readBlob` does.
    /// - Parameter index: which index was asked, for the message ("in the store", "of the source").
    public func deltaBaseLocation(_ base: ChunkID, forDelta delta: ChunkID, in pack: PackID, index: String = "in the store") async throws -> BlobLocation {
        try DeltaBaseRule.usable(base, at: try? await locate(base, type: .data), forDelta: delta, in: pack, index: index)
    }

    /// One blob through `readBlobs`: its delta base checked (`DeltaBaseRule`) and read first.
    private func readBlob<T: Sendable>(_ type: BlobType, _ id: ChunkID, at loc: BlobLocation, baseLocation: ((ChunkID) throws -> BlobLocation?)?,
                                       open: @escaping @Sendable (UnsafeRawBufferPointer, (id: ChunkID, plaintext: [UInt8])?) throws -> T) async throws -> T {
        let item = BlobRead(id: id, location: loc)
        var locations: [ChunkID: BlobLocation] = [:]
        if let baseID = loc.base {
            if let baseLocation {
                locations[baseID] = try DeltaBaseRule.usable(baseID, at: try baseLocation(baseID), forDelta: id, in: loc.pack)
            } else {
                locations[baseID] = try await deltaBaseLocation(baseID, forDelta: id, in: loc.pack)
            }
        }
        let bases = try await deltaBases(for: [item], locations: locations)
        return try await readBlobs([item], type: type, bases: bases) { read, bytes, at, base in
            try self.openBlob(read, in: bytes, at: at) { try open($0, base) }
        }[0]
    }

    /// Reads and opens `items` (distinct blobs) of `type`; results in the
    /// order of `items`. `wrap` turns the error of item i into the one to throw.
    private func readBlobs(_ items: [BlobRead], type: BlobType, bases: [ChunkID: [UInt8]],
                           wrap: @escaping @Sendable (Int, any Error) -> any Error = { $1 }) async throws -> [[UInt8]] {
        try await readBlobs(items, type: type, bases: bases, wrap: wrap) { read, bytes, at, base in
            try self.openBlob(read, type, in: bytes, at: at, base: base)
        }
    }

    /// The one read of blobs, for single reads and batches: every entry's
    /// sizes checked against the repository's limits before any read;
    /// neighbouring blobs of a pack read with one ranged read (runs read
    /// concurrently: on a remote store each is a request); each blob handed
    /// to `open` with the bytes of its run (a batch opened on every core).
    private func readBlobs<T: Sendable>(_ items: [BlobRead], type: BlobType, bases: [ChunkID: [UInt8]],
                                        wrap: @escaping @Sendable (Int, any Error) -> any Error = { $1 },
                                        open: @escaping @Sendable (BlobRead, [UInt8], Int, (id: ChunkID, plaintext: [UInt8])?) throws -> T) async throws -> [T] {
        guard !items.isEmpty else { return [] }
        // An entry claiming more than this repository's largest blob is damage: refused before any read.
        for (i, item) in items.enumerated() {
            if let why = codec.limits.violation(type, rawLength: item.location.rawLength, storedLength: UInt64(item.location.length)) {
                throw wrap(i, CairnError.damagedBlob(blob: item.id.hex, pack: item.location.pack.hex, reason: why))
            }
        }
        let runs = Self.coalesce(items)
        let store = self.store
        @Sendable func read(_ run: PackRun) async throws -> [UInt8] {
            do { return try await Self.read(run, from: store) } catch { throw wrap(run.members[0].item, error) }
        }
        @Sendable func opened(_ m: RunMember, _ buffers: [[UInt8]]) throws -> (Int, T) {
            let item = items[m.item], loc = item.location
            var base: (id: ChunkID, plaintext: [UInt8])? = nil
            if let b = loc.base {
                guard let p = bases[b] else {
                    throw wrap(m.item, CairnError.damagedBlob(blob: item.id.hex, pack: loc.pack.hex, reason: "its delta base \(b.short) was not read"))
                }
                base = (b, p)
            }
            do { return (m.item, try open(item, buffers[m.run], m.at, base)) } catch { throw wrap(m.item, error) }
        }
        // One blob (trees, lists, a copy blob by blob): no tasks.
        if runs.count == 1, runs[0].members.count == 1 {
            let buffers = [try await read(runs[0])]
            return [try opened(RunMember(run: 0, item: runs[0].members[0].item, at: runs[0].members[0].at), buffers).1]
        }
        let buffers = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for r in 0..<runs.count {
                let run = runs[r]
                group.addTask { (r, try await read(run)) }
            }
            var out = [[UInt8]](repeating: [], count: runs.count)
            for try await (r, bytes) in group { out[r] = bytes }
            return out
        }
        // Open the blobs, in pack order, split into a few slices per core.
        var order: [RunMember] = []
        order.reserveCapacity(items.count)
        for r in 0..<runs.count { for m in runs[r].members { order.append(RunMember(run: r, item: m.item, at: m.at)) } }
        let slices = min(order.count, max(1, Self.cores * 2, order.count / 16))
        let opens = try await withThrowingTaskGroup(of: [(Int, T)].self) { group in
            for s in 0..<slices {
                let part = order[(s * order.count / slices)..<((s + 1) * order.count / slices)]
                group.addTask { try part.map { try opened($0, buffers) } }
            }
            var out = [T?](repeating: nil, count: items.count)
            for try await part in group { for (i, value) in part { out[i] = value } }
            return out
        }
        return opens.map { $0! }
    }

    /// A range of one pack read at once, and the blobs in it.
    package struct PackRun: Sendable {
        package let pack: PackID
        package let start: UInt64
        package var length: Int
        package var members: [RunMember]
    }

    /// A blob of a run: its item index, and its offset in the run's bytes.
    package struct RunMember: Sendable {
        var run = 0
        package let item: Int
        package let at: Int
    }

    /// The bytes of `run` (one ranged read of its pack); a pack gone from the store is `missingPack`.
    package static func read(_ run: PackRun, from store: any ObjectStore) async throws -> [UInt8] {
        do {
            return try await store.get(ObjectKey(.data, run.pack.hex), offset: run.start, length: run.length)
        } catch StorageError.notFound {
            throw CairnError.missingPack(run.pack.hex)
        }
    }

    /// Bytes between two blobs still read through rather than split into
    /// two reads; and the most one read may take.
    static let runGap: UInt64 = 32 << 10
    static let runLimit: UInt64 = 8 << 20

    /// Groups `items` by pack, in offset order, into runs of neighbouring blobs: a gap of at most
    /// `gap` bytes is read through, and a run reads at most `limit` bytes (unless one blob is larger).
    package static func coalesce(_ items: [BlobRead], gap: UInt64 = runGap, limit: UInt64 = runLimit) -> [PackRun] {
        let order = items.indices.sorted {
            let a = items[$0].location, b = items[$1].location
            return a.pack != b.pack ? a.pack < b.pack : a.offset < b.offset
        }
        var runs: [PackRun] = []
        for i in order {
            let loc = items[i].location
            let end = loc.offset + UInt64(loc.length)
            if var last = runs.popLast() {
                let lastEnd = last.start + UInt64(last.length)
                if last.pack == loc.pack, loc.offset <= lastEnd + gap, max(end, lastEnd) - last.start <= limit {
                    last.length = Int(max(end, lastEnd) - last.start)
                    last.members.append(RunMember(item: i, at: Int(loc.offset - last.start)))
                    runs.append(last)
                    continue
                }
                runs.append(last)
            }
            runs.append(PackRun(pack: loc.pack, start: loc.offset, length: Int(loc.length), members: [RunMember(item: i, at: 0)]))
        }
        return runs
    }

    /// Online processors: how many slices a batch is opened in (times two, so
    /// uneven slices, such as deltas, still keep every core busy).
    static let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}
