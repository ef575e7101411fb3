import CairnFormat
import CairnRepository
import CairnIndex
import CairnStorage
import CLinuxShims
import Synchronization

extension Restorer {
    /// A plan ready to run: its spans, where the delta bases they name are,
    /// its files, and files already failed while it was prepared.
    struct PreparedPlan: Sendable {
        let spans: [RestorePlan.Span]
        let bases: [ChunkID: BlobLocation]
        let files: [RestoringFile]
        let failed: [RestoringFile]
    }

    /// Looks up every blob of `plan` (one index pass; run by run when that
    /// fails, so each error names its own file), assigns the offsets and lays
    /// out the spans. Runs on the walk, plan after plan, so offsets of a file
    /// continued from one plan to the next follow its content order.
    func prepare(_ plan: RestorePlan) async -> PreparedPlan {
        var located: [Swift.Result<[BlobRead], CairnError>] = []
        var bases: [ChunkID: BlobLocation] = [:]
        let all = plan.runs.flatMap(\.ids)
        if !all.isEmpty, let found = try? await repo.locateDataChunks(all) {
            bases = found.bases
            var at = 0
            for run in plan.runs {
                located.append(.success(Array(found.reads[at..<(at + run.ids.count)])))
                at += run.ids.count
            }
        } else {
            for run in plan.runs {
                do {
                    let found = try await repo.locateDataChunks(run.ids)
                    bases.merge(found.bases) { a, _ in a }
                    located.append(.success(found.reads))
                } catch {
                    located.append(.failure(error as? CairnError ?? .other(describe(error))))
                }
            }
        }
        let (spans, failed) = RestorePlan.spans(plan.runs, located: located) { file, error in self.failure(file.job, error) }
        return PreparedPlan(spans: spans, bases: bases, files: plan.files, failed: failed)
    }

    /// Runs a prepared plan: up to `packsInFlight` spans read at once (with
    /// those of the other plans: `slots`); each
    /// span's blobs opened and written on the writer threads a slice at a
    /// time (several slices, so several files and cores, at once); then the
    /// plan's files that are done and not yet closed are closed. Returns the
    /// results of the files it closed (a file continued in the next plan is
    /// closed by that one).
    func execute(_ plan: PreparedPlan, stop: FailedFile, threads: BlockingThreads, slots: SpanSlots) async -> [FileResult] {
        var results = plan.failed.map { closeFile($0) }
        reportProgress(results)
        await withTaskGroup(of: [FileResult].self) { group in
            var next = 0
            func start() {
                guard next < plan.spans.count else { return }
                let span = plan.spans[next]
                next += 1
                group.addTask {
                    await slots.acquire()
                    let done = await self.run(span, bases: plan.bases, stop: stop, threads: threads)
                    await slots.release()
                    return done
                }
            }
            for _ in 0..<max(1, packsInFlight) { start() }
            while let done = await group.next() {
                results += done
                start()
            }
        }
        // Files whose content ended in this plan with nothing left to write (empty files, all holes, failures).
        let rest = plan.files.filter { $0.claimIfDone() }
        guard !rest.isEmpty else { return results }
        return await withTaskGroup(of: [FileResult].self) { group in
            let parts = max(1, min(rest.count, writerThreads))
            for p in 0..<parts {
                let part = Array(rest[(p * rest.count / parts)..<((p + 1) * rest.count / parts)])
                group.addTask {
                    await threads.run {
                        let done = part.map { self.closeFile($0) }
                        self.reportProgress(done)
                        return done
                    }
                }
            }
            for await done in group { results += done }
            return results
        }
    }

    /// Reads one span and writes its blobs; a span that cannot be read fails every file that needed it.
    private func run(_ span: RestorePlan.Span, bases: [ChunkID: BlobLocation], stop: FailedFile, threads: BlockingThreads) async -> [FileResult] {
        var bytes: [UInt8]
        do {
            bytes = try await repo.store.get(ObjectKey(.data, span.pack.hex), offset: span.start, length: span.length)
        } catch {
            let reason = (error as? StorageError).flatMap { if case .notFound = $0 { CairnError.missingPack(span.pack.hex) } else { nil } }
                ?? error as? CairnError ?? .other(describe(error))
            var results: [FileResult] = []
            for blob in span.blobs { drop(blob, reason, into: &results) }
            reportProgress(results)
            return results
        }
        let results = await write(span, from: bytes, bases: bases, stop: stop, threads: threads)
        // Every slice is done with the span: its buffer takes the next span (no fresh pages to fault in).
        ByteBufferPool.shared.recycle(&bytes)
        return results
    }

    /// Opens and writes a span's blobs a slice at a time, several slices at once.
    private func write(_ span: RestorePlan.Span, from bytes: [UInt8], bases: [ChunkID: BlobLocation], stop: FailedFile,
                       threads: BlockingThreads) async -> [FileResult] {
        let slices = Self.slices(span.blobs)
        return await withTaskGroup(of: [FileResult].self) { group in
            var next = 0
            func start() {
                guard next < slices.count else { return }
                let blobs = span.blobs[slices[next]]
                next += 1
                group.addTask {
                    let baseTexts = await self.baseTexts(for: blobs, locations: bases)
                    return await threads.run { self.write(blobs, from: bytes, bases: baseTexts, stop: stop) }
                }
            }
            for _ in 0..<max(1, writerThreads) { start() }
            var results: [FileResult] = []
            while let done = await group.next() {
                results += done
                start()
            }
            return results
        }
    }

    /// Blobs opened and written by one job: up to `sliceBlobs` blobs and
    /// `sliceBytes` stored bytes (plaintext of a slice is held until written).
    static let sliceBlobs = 64
    static let sliceBytes = 1 << 20

    static func slices(_ blobs: [RestorePlan.Blob]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = 0, bytes = 0
        for (k, blob) in blobs.enumerated() {
            if k > start, k - start >= sliceBlobs || bytes + Int(blob.read.location.length) > sliceBytes {
                out.append(start..<k)
                start = k; bytes = 0
            }
            bytes += Int(blob.read.location.length)
        }
        if start < blobs.count { out.append(start..<blobs.count) }
        return out
    }

    /// The plaintexts of the delta bases `blobs` name: from the base cache,
    /// else read together (one ranged read per run of neighbouring bases);
    /// when that fails, one by one, so each failure stays with its own deltas.
    private func baseTexts(for blobs: ArraySlice<RestorePlan.Blob>, locations: [ChunkID: BlobLocation]) async -> [ChunkID: Swift.Result<[UInt8], CairnError>] {
        var out: [ChunkID: Swift.Result<[UInt8], CairnError>] = [:]
        var reads: [BlobRead] = []
        var asked = Set<ChunkID>()
        for blob in blobs {
            guard let base = blob.read.location.base, asked.insert(base).inserted else { continue }
            if let hit = repo.bases.cached(base) { out[base] = .success(hit); continue }
            guard let loc = locations[base] else { out[base] = .failure(.other("its index entry was not looked up")); continue }
            reads.append(BlobRead(id: base, location: loc))
        }
        guard !reads.isEmpty else { return out }
        if let plains = try? await repo.readDataChunks(reads[...], baseLocations: [:]) {
            for (read, plain) in zip(reads, plains) {
                out[read.id] = .success(plain)
                repo.bases.insert(read.id, plain)
            }
            return out
        }
        for read in reads {
            do {
                let plain = try await repo.readBlob(.data, read.id, at: read.location)
                out[read.id] = .success(plain)
                repo.bases.insert(read.id, plain)
            } catch {
                out[read.id] = .failure(error as? CairnError ?? .other(describe(error)))
            }
        }
        return out
    }

    /// Opens `blobs` from the span's `bytes` and writes each to its targets,
    /// file by file in offset order (neighbouring chunks in one `pwritev`,
    /// chunks of zeros left as holes); closes the files whose last blob this
    /// was. Runs on a writer thread.
    private func write(_ blobs: ArraySlice<RestorePlan.Blob>, from bytes: [UInt8], bases: [ChunkID: Swift.Result<[UInt8], CairnError>],
                       stop: FailedFile) -> [FileResult] {
        struct Piece { let offset: UInt64; let chunk: [UInt8]; let zero: Bool }
        var results: [FileResult] = []
        var pieces: [ObjectIdentifier: (file: RestoringFile, pieces: [Piece])] = [:]
        var order: [ObjectIdentifier] = []
        for blob in blobs {
            let plain: [UInt8]
            do { plain = try open(blob, in: bytes, bases: bases) } catch {
                drop(blob, error, into: &results)
                continue
            }
            let zero = Self.isZero(plain)
            for t in blob.targets {
                let key = ObjectIdentifier(t.file)
                if pieces[key] == nil { pieces[key] = (t.file, []); order.append(key) }
                pieces[key]!.pieces.append(Piece(offset: t.offset, chunk: plain, zero: zero))
            }
        }
        var bytesDone: UInt64 = 0
        for key in order {
            guard let (file, mine) = pieces[key] else { continue }
            let sorted = mine.count < 2 ? mine : mine.sorted { $0.offset < $1.offset }
            var total: UInt64 = 0
            do {
                try stop.check(file.job.index)
                if let fd = try file.openedUnlessFailed({ try openFile(file.job, stop: stop) })?.fd {
                    var k = 0
                    while k < sorted.count {
                        guard !sorted[k].zero else { k += 1; continue }
                        // A run of neighbouring chunks that are not all zeros: one writeAll.
                        var end = k + 1, next = sorted[k].offset + UInt64(sorted[k].chunk.count)
                        while end < sorted.count, !sorted[end].zero, sorted[end].offset == next {
                            next += UInt64(sorted[end].chunk.count)
                            end += 1
                        }
                        try writeAll(fd, sorted[k..<end].map(\.chunk)[...], at: sorted[k].offset, path: file.job.display)
                        Self.startWriteback(fd, from: sorted[k].offset, to: next)
                        k = end
                    }
                    total = sorted.reduce(0) { $0 + UInt64($1.chunk.count) }
                }
            } catch {
                file.fail(failure(file.job, error))
            }
            bytesDone += total
            if file.wrote(total, releasing: sorted.count) { results.append(closeFile(file)) }
        }
        // One update for the whole slice: the lock is shared by every writer thread.
        reportProgress(results, bytes: bytesDone)
        return results
    }

    /// Counts `bytes` written and the files of `results` restored, in one
    /// update of the progress (not one per file or blob).
    func reportProgress(_ results: [FileResult], bytes: UInt64 = 0) {
        let files = results.reduce(UInt64(0)) { n, r in if case .restored = r { n + 1 } else { n } }
        guard files > 0 || bytes > 0 else { return }
        progress.update { $0.bytesDone += bytes; $0.filesDone += files }
    }

    /// Runs written at once from this many bytes on start their writeback
    /// (smaller ones, the small files of a tree, wait for the final syncfs).
    static let writebackRun: UInt64 = 256 << 10

    /// Starts writing back a run just written, without waiting: the disk
    /// works while the next packs download, and the restore's closing
    /// `syncfs` finds little left to write (Docs/performance.md, issue 16.6).
    /// A hint: its failure changes nothing (the syncfs still reports errors).
    static func startWriteback(_ fd: Int32, from start: UInt64, to end: UInt64) {
        guard end - start >= writebackRun else { return }
        _ = cairn_start_writeback_range(fd, Int64(start), Int64(end - start))
    }

    /// One blob of the span, opened and verified.
    private func open(_ blob: RestorePlan.Blob, in bytes: [UInt8], bases: [ChunkID: Swift.Result<[UInt8], CairnError>]) throws -> [UInt8] {
        let read = blob.read, loc = read.location
        var base: (id: ChunkID, plaintext: [UInt8])? = nil
        if let b = loc.base {
            switch bases[b] {
            case .success(let plain)?: base = (b, plain)
            case .failure(let e)?:
                throw CairnError.damagedBlob(blob: read.id.hex, pack: loc.pack.hex, reason: "its delta base cannot be read: \(describe(e))")
            case nil:
                throw CairnError.damagedBlob(blob: read.id.hex, pack: loc.pack.hex, reason: "its delta base \(b.short) was not read")
            }
        }
        return try repo.openBlob(read, .data, in: bytes, at: blob.at, base: base)
    }

    /// Fails every file `blob` was for.
    private func drop(_ blob: RestorePlan.Blob, _ error: any Error, into results: inout [FileResult]) {
        for t in blob.targets {
            t.file.fail(failure(t.file.job, error))
            if t.file.release(1) { results.append(closeFile(t.file)) }
        }
    }

    /// Closes a file claimed for closing: names it once its length is proven,
    /// or removes it when it failed.
    func closeFile(_ file: RestoringFile) -> FileResult {
        let (new, written, error) = file.current
        let job = file.job
        if let error {
            if let new { job.directory.discard(new) }
            return .failed(index: job.index, directory: job.directoryID, error: error)
        }
        do {
            // A file of no bytes (or only holes) is created now.
            let new = try new ?? openFile(job, stop: nil)
            return .restored(index: job.index, directory: job.directoryID, try finishFile(new, written: written, job: job))
        } catch {
            return .failed(index: job.index, directory: job.directoryID, error: failure(job, error))
        }
    }

    /// Closes a file of a restore that stopped, whatever it still waited for.
    func abandon(_ file: RestoringFile) {
        guard file.claimAbandoned(), let new = file.current.file else { return }
        file.job.directory.discard(new)
    }
}
