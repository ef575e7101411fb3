import CairnCrypto
import CairnFormat
import CairnIndex
import CairnRepository
import CairnStorage
import Synchronization

/// `cairn scrub`: proves that every snapshot can be restored.
///
/// The structural pass trusts nothing local: it reads the store's index
/// objects, compares them with every pack's header and size, and walks every
/// snapshot's trees and chunk lists (read from the store, verified). With
/// `readData` it also downloads packs, checks each against its name and
/// authenticates, decompresses and hash-checks every blob, on all cores.
/// Damage is then traced to the snapshots, paths and byte ranges it breaks.
public struct Checker: Sendable {
    let repo: Repository
    let options: ScrubOptions
    public let progress: WorkProgress

    public init(repo: Repository, options: ScrubOptions, progress: WorkProgress = WorkProgress()) {
        self.repo = repo; self.options = options; self.progress = progress
    }

    public func run() async throws -> ScrubReport {
        let started = Clock.monotonic()
        var report = ScrubReport()
        try await checkKeys(&report)
        let live = try await liveSnapshots(&report)
        let view = try await StoreIndexView.load(repo)
        for u in view.unreadable { report.objectProblems.append(.init(object: "index/\(u.name)", problem: u.problem)) }
        let stored = try await storedPacks()
        var badBlobs = try await checkPacks(view: view, stored: stored, report: &report)
        report.orphanPacks = stored.keys.filter { !view.names(pack: $0) }.map(\.hex).sorted()
        let unindexed = try await unindexedBlobs(in: report.orphanPacks, stored: stored, view: view)
        if options.readData {
            try await readData(view: view, unindexed: unindexed, stored: stored, skip: Set(report.packProblems.compactMap { PackID(hex: $0.pack) }),
                               started: started, report: &report, badBlobs: &badBlobs)
        }
        try checkDeltaBases(view: view, unindexed: unindexed, report: &report, badBlobs: &badBlobs)
        for (k, why) in badBlobs.sorted(by: { $0.key.id < $1.key.id }) {
            report.blobProblems.append(.init(blob: k.id.hex, type: "\(k.type)", pack: try view.location(k)?.pack.hex, problem: why))
        }
        let tracer = try await traceSnapshots(live, view: view, unindexed: unindexed, badBlobs: badBlobs, report: &report)
        report.indexMemoryBytes = view.table.memoryBytes + tracer.bitBytes
        report.blobEntriesHeld = badBlobs.count + unindexed.count + tracer.entriesHeld
        report.seconds = Clock.monotonic() - started
        return report
    }

    /// The snapshots in the store that no forget removed, by id; unreadable objects and
    /// replayed snapshots reported.
    private func liveSnapshots(_ report: inout ScrubReport) async throws -> [StoreSnapshots.Item] {
        // Snapshots are read before the index objects are: a backup commits its snapshot only
        // after the index objects naming its packs are stored (format-spec §15), so every
        // snapshot read here finds its blobs in the index read next. A backup that commits
        // while this scrub runs (scrub takes no exclusive lock) is left for the next scrub
        // instead of being reported as damage; snapshots merged into a catalogue meanwhile
        // are found there (`StoreSnapshots.load`).
        let storedSnapshots = try await StoreSnapshots.load(repo)
        // Snapshots a forget removed that are back in the store (replayed) are reported, not traced.
        let records = try await ForgetRecords.load(repo)
        for u in records.unreadable { report.objectProblems.append(.init(object: "forgotten/\(u.name)", problem: u.problem)) }
        report.replayedSnapshots = storedSnapshots.allIDs.sorted().compactMap { id in
            records.forgotten[id].map { .init(snapshot: id, forgottenNanos: $0) }
        }
        for u in storedSnapshots.unreadable where records.forgotten[String(u.name.split(separator: "#").last ?? "")] == nil {
            report.objectProblems.append(.init(object: "snapshots/\(u.name)", problem: u.problem))
        }
        return storedSnapshots.items.values.filter { records.forgotten[$0.id] == nil }.sorted { $0.id < $1.id }
    }

    /// Packs: presence, size, header agreement with the index. Returns the blobs of the bad ones, with why.
    private func checkPacks(view: StoreIndexView, stored: [PackID: UInt64], report: inout ScrubReport) async throws -> [StoreIndexView.BlobKey: String] {
        var badBlobs: [StoreIndexView.BlobKey: String] = [:]
        for id in view.packIDs.sorted() {
            guard let pack = try view.pack(id) else { continue }
            report.packsChecked += 1
            let problem: (text: String, why: String)?
            if let size = stored[id] {
                if size != pack.size {
                    problem = ("size \(size) differs from the index's \(pack.size) (truncated or replaced)", "pack \(id.short) has the wrong size")
                } else {
                    do {
                        let header = try await repo.readPackHeader(id, size: size)
                        let agrees = Set(header.entries) == Set(pack.entries) && header.type == pack.type
                        problem = agrees ? nil : ("header disagrees with the index", "pack \(id.short) header disagrees with the index")
                    } catch {
                        problem = ("header unreadable: \(describe(error))", "pack \(id.short) header is unreadable")
                    }
                }
            } else {
                problem = ("missing from the store", "pack \(id.short) is missing")
            }
            guard let problem else { continue }
            report.packProblems.append(.init(pack: id.hex, problem: problem.text, blobs: pack.entries.map(\.id.hex)))
            for e in pack.entries { badBlobs[.init(id: e.id, type: e.type)] = problem.why }
        }
        return badBlobs
    }

    /// What packs no readable index object names hold, from their own headers: a blob a
    /// snapshot uses that is found only there is index damage (an index object lost,
    /// damaged or renamed), not lost data, and a rebuild of the index recovers it.
    private func unindexedBlobs(in orphanPacks: [String], stored: [PackID: UInt64], view: StoreIndexView) async throws -> [StoreIndexView.BlobKey: BlobLocation] {
        var unindexed: [StoreIndexView.BlobKey: BlobLocation] = [:]
        for hex in orphanPacks {
            guard let id = PackID(hex: hex), let size = stored[id], let header = try? await repo.readPackHeader(id, size: size) else { continue }
            for e in header.entries where try view.location(.init(id: e.id, type: e.type)) == nil {
                unindexed[.init(id: e.id, type: e.type)] = BlobLocation(pack: id, offset: e.offset, length: e.length, rawLength: e.rawLength, base: e.base)
            }
        }
        return unindexed
    }

    /// Delta blobs whose base the index does not name whole cannot be decoded (a read-data
    /// pass has reported those of the packs it read already).
    private func checkDeltaBases(view: StoreIndexView, unindexed: [StoreIndexView.BlobKey: BlobLocation], report: inout ScrubReport,
                                 badBlobs: inout [StoreIndexView.BlobKey: String]) throws {
        let reported = Set(report.packProblems.map(\.pack))
        for (id, all) in try view.undecodableDeltas().sorted(by: { $0.key < $1.key }) where !reported.contains(id.hex) {
            // A base only a pack no readable index object names holds is index damage (traced below).
            let entries = all.filter { e in e.base.map { unindexed[.init(id: $0, type: .data)]?.base != nil || unindexed[.init(id: $0, type: .data)] == nil } ?? false }
            if entries.isEmpty { continue }
            report.packProblems.append(.init(pack: id.hex, problem: "\(entries.count) delta blob(s) whose base is stored whole in no pack of the index: they cannot be decoded ('cairn repair' rewrites the pack without them)", blobs: entries.map(\.id.hex)))
            for e in entries where try view.location(.init(id: e.id, type: e.type))?.pack == id {
                guard let base = e.base else { continue }
                badBlobs[.init(id: e.id, type: e.type)] = "delta against \(base.short), which no index object names as a whole data blob"
            }
        }
    }

    private func checkKeys(_ report: inout ScrubReport) async throws {
        for key in try await repo.store.list(.keys) {
            do {
                let bytes = try await MetadataObjects.read(repo.store, key)
                if KeyReplacement.isRecordName(key.name) {
                    // A 'key passwd' running now (opening the repository finishes one that stopped).
                    guard key.name == KeyReplacement.namePrefix + Hex.encode(SHA256.hash(bytes)) else { throw CairnError.other(MetadataObjects.nameMismatch) }
                    _ = try KeyReplacement.decode(try repo.keys.openObject(.keyReplacement, bytes))
                    continue
                }
                _ = try KeyFile.decode(bytes)
                if !MetadataObjects.matchesName(key, bytes) { throw CairnError.other(MetadataObjects.nameMismatch) }
            } catch {
                report.objectProblems.append(.init(object: "keys/\(key.name)", problem: describe(error)))
            }
        }
    }

    private func storedPacks() async throws -> [PackID: UInt64] {
        var out: [PackID: UInt64] = [:]
        for key in try await repo.store.list(.data) {
            guard let id = PackID(hex: key.name), let size = try await repo.store.size(key) else { continue }
            out[id] = size
        }
        return out
    }

    // MARK: reading data

    private func selectPacks(_ candidates: [PackID]) throws -> (read: [PackID], skippedRecent: Int) {
        var list = candidates.sorted()
        switch options.subset {
        case .all: break
        case .slice(let n, let t): list = list.filter { ScrubOptions.inSlice($0, n, t) }
        case .fraction(let f):
            let want = Int((Double(list.count) * f).rounded(.up))
            list = Array(list.shuffled().prefix(want)).sorted()
        }
        var skipped = 0
        if let age = options.maxAgeSeconds {
            let verified = try repo.index.verifiedPacks()
            let cutoff = Clock.nowNanos() - Int64(age * 1e9)
            let before = list.count
            list = list.filter { (verified[$0] ?? Int64.min) < cutoff }
            skipped = before - list.count
        }
        return (list, skipped)
    }

    private struct PackResult: Sendable {
        let pack: PackID
        var problem: String? = nil
        var badBlobs: [(BlobEntry, String)] = []
        var blobs = 0
        var bytes: UInt64 = 0
    }

    private func readData(view: StoreIndexView, unindexed: [StoreIndexView.BlobKey: BlobLocation], stored: [PackID: UInt64], skip: Set<PackID>, started: Double,
                          report: inout ScrubReport, badBlobs: inout [StoreIndexView.BlobKey: String]) async throws {
        let (packs, skippedRecent) = try selectPacks(view.packIDs.filter { stored[$0] != nil && !skip.contains($0) })
        report.packsSkippedRecent = skippedRecent
        progress.update { $0.bytesTotal = packs.reduce(0) { $0 + (stored[$1] ?? 0) } }
        let workers = max(2, Int(sysconfProcessors())) * 2
        var next = 0
        try await withThrowingTaskGroup(of: PackResult.self) { group in
            func launch() throws -> Bool {
                if let limit = options.maxDurationSeconds, Clock.monotonic() - started > limit { return false }
                guard next < packs.count else { return false }
                let id = packs[next]; next += 1
                guard let expected = try view.pack(id) else { return true }
                group.addTask { await verifyPack(id, expected: expected, view: view, unindexed: unindexed) }
                return true
            }
            for _ in 0..<workers { if try !launch() { break } }
            while let r = try await group.next() {
                report.packsRead += 1
                report.blobsVerified += r.blobs
                report.bytesVerified += r.bytes
                progress.update { $0.bytesDone += r.bytes; $0.filesDone += 1 }
                if let p = r.problem {
                    report.packProblems.append(.init(pack: r.pack.hex, problem: p, blobs: r.badBlobs.map(\.0.id.hex)))
                    // A damaged copy breaks a blob only when it is the copy readers use (another
                    // pack may hold a good one: a chunk stored again after its delta lost its base).
                    for (e, why) in r.badBlobs where try view.location(.init(id: e.id, type: e.type))?.pack == r.pack {
                        badBlobs[.init(id: e.id, type: e.type)] = why
                    }
                } else {
                    try repo.index.recordVerified(r.pack, at: Clock.nowNanos())
                }
                _ = try launch()
            }
        }
        if next < packs.count { report.complete = false }
    }

    /// Downloads one pack and proves every byte of it.
    private func verifyPack(_ id: PackID, expected: IndexedPack, view: StoreIndexView,
                            unindexed: [StoreIndexView.BlobKey: BlobLocation]) async -> PackResult {
        var r = PackResult(pack: id)
        let bytes: [UInt8]
        // As large as the index says (the sizes agreed when listed), however large the object has become since.
        do { bytes = try await repo.store.get(ObjectKey(.data, id.hex), offset: 0, length: Int(expected.size)) } catch {
            r.problem = "cannot be read: \(describe(error))"
            r.badBlobs = expected.entries.map { ($0, "pack \(id.short) cannot be read") }
            return r
        }
        r.bytes = UInt64(bytes.count)
        let nameMatches = SHA256.packID(bytes) == id
        var problems: [String] = []
        if !nameMatches { problems.append("content does not match its name (SHA-256)") }
        for e in expected.entries {
            let end = Int(e.offset) + Int(e.length)
            guard end <= bytes.count else {
                r.badBlobs.append((e, "blob lies beyond the end of pack \(id.short)")); continue
            }
            var base: (id: ChunkID, plaintext: [UInt8])? = nil
            if let baseID = e.base {
                // A delta is only as good as its base: read the base (verified) through the store's
                // index (or, index damage, from a pack only its own header names).
                let whole = (try? view.storesWhole(baseID)) == true ? try? view.dataLocation(baseID)
                    : unindexed[.init(id: baseID, type: .data)].flatMap { $0.base == nil ? $0 : nil }
                guard let loc = whole,
                      let plain = try? await repo.readBlob(.data, baseID, at: loc) else {
                    r.badBlobs.append((e, "its delta base \(baseID.short) is missing or damaged")); continue
                }
                base = (baseID, plain)
            }
            do {
                _ = try repo.codec.open(Array(bytes[Int(e.offset)..<end]), type: e.type, id: e.id, rawLength: e.rawLength, base: base)
                r.blobs += 1
            } catch {
                r.badBlobs.append((e, "damaged in pack \(id.short): \(describe(error))"))
            }
        }
        if !r.badBlobs.isEmpty { problems.append("\(r.badBlobs.count) of \(expected.entries.count) blobs fail verification") }
        if !problems.isEmpty { r.problem = problems.joined(separator: "; ") }
        return r
    }

    // MARK: tracing damage to snapshots

    private func traceSnapshots(_ snapshots: [StoreSnapshots.Item], view: StoreIndexView, unindexed: [StoreIndexView.BlobKey: BlobLocation],
                                badBlobs: [StoreIndexView.BlobKey: String], report: inout ScrubReport) async throws -> DamageTracer {
        // One tracer for every snapshot: each tree and list blob is read and checked once.
        var tracer = DamageTracer(repo: repo, view: view, unindexed: unindexed, badBlobs: badBlobs)
        for item in snapshots {
            report.snapshotsChecked += 1
            let damage = try await tracer.walk(snapshotID: item.id, name: item.snapshot.name, root: item.snapshot.root)
            report.affected += damage.affected
            if damage.omitted > 0 { report.affectedNotListed[item.id] = damage.omitted }
            if damage.usesUnindexed { report.snapshotsNeedingIndexRebuild.insert(item.id) }
        }
        var listed = Set(report.blobProblems.map { "\($0.type) \($0.blob)" })
        for (k, why) in tracer.missing.merging(tracer.unreadable, uniquingKeysWith: { a, _ in a }).sorted(by: { $0.key.id < $1.key.id })
        where listed.insert("\(k.type) \(k.id.hex)").inserted {
            report.blobProblems.append(.init(blob: k.id.hex, type: "\(k.type)", pack: try view.location(k)?.pack.hex, problem: why))
        }
        for (k, d) in tracer.unindexedDamaged.sorted(by: { $0.key.id < $1.key.id }) where listed.insert("\(k.type) \(k.id.hex)").inserted {
            report.blobProblems.append(.init(blob: k.id.hex, type: "\(k.type)", pack: d.pack.hex, problem: d.why))
        }
        report.unindexedBlobs = tracer.unindexedUsed.sorted { $0.key.id < $1.key.id }.map { k, pack in
            .init(blob: k.id.hex, type: "\(k.type)", pack: pack.hex,
                  problem: "no readable index object names it, but pack \(pack.short) holds it (index damage: 'cairn index rebuild --read-packs' recovers it)")
        }
        return tracer
    }
}

#if canImport(Glibc)
import Glibc
#endif
