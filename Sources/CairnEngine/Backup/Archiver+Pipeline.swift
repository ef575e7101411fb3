import CairnFormat
import CairnStorage
#if canImport(Glibc)
import Glibc
#endif

// The pipeline: chunks batched to the parallel stage, results committed to their files in order.
extension Archiver {

    /// Chunks a whole file or stream into the batch; returns its slot.
    ///
    /// - Parameter small: a file known to be small is read inline; anything
    ///   else is read and cut a batch at a time on a dispatch thread, so the
    ///   cooperative threads keep hashing and compressing the previous batch
    ///   meanwhile (and a stream that blocks, a pipe from pg_dump, parks no
    ///   cooperative thread).
    func stream(fd: Int32, chunker: FastCDC, path: String, small: Bool = false, prefix: [UInt8] = []) async throws -> Int {
        let slot = nextSlot
        nextSlot += 1
        builders[slot] = ContentBuilder()
        let input = ChunkReader(fd: fd, chunker: chunker, path: path, prefix: prefix, reusing: spareReadBuffer)
        spareReadBuffer = []
        defer {
            lastStreamBytes = input.bytesRead - UInt64(prefix.count)
            spareReadBuffer = input.surrenderBuffer()
        }
        if small {
            while let chunk = try input.next() {
                append(chunk, slot: slot)
                if batchBytes >= batchLimit { try await flushBatch() }
            }
            return slot
        }
        let reader = UncheckedSendable(input)
        while true {
            let room = max(1, batchLimit - batchBytes)
            let chunks = try await BlockingIO.run { try reader.value.next(bytes: room) }
            if chunks.isEmpty { break }
            for chunk in chunks { append(chunk, slot: slot) }
            if batchBytes >= batchLimit { try await flushBatch() }
        }
        return slot
    }

    func append(_ chunk: [UInt8], slot: Int) {
        batch.append(chunk); batchSlots.append(slot); batchBytes += chunk.count
        progress.update { $0.bytesDone += UInt64(chunk.count) }
    }

    /// Hands the current batch to the parallel stage and commits the previous one.
    func flushBatch() async throws {
        let chunks = batch, slots = batchSlots
        batch = []; batchSlots = []; batchBytes = 0
        let previous = inflight
        let processor = self.processor
        inflight = chunks.isEmpty ? nil : (Task { try await processor.process(chunks) }, slots)
        if let previous { try await commitBatch(try await previous.task.value, slots: previous.slots) }
    }

    /// Waits until every chunk read so far is in a pack buffer and a builder.
    func drain() async throws {
        try await flushBatch()
        try await flushBatch()
    }

    /// The sequential stage: in input order, new blobs to packs and ids to builders.
    func commitBatch(_ results: [ChunkProcessor.Result], slots: [Int]) async throws {
        for (r, slot) in zip(results, slots) {
            if let sealed = r.sealed {
                try await saver.add(sealed: sealed, type: .data, id: r.id, rawLength: r.length, base: r.base, features: r.features)
            }
            let lists = builders[slot]!.append(r.id, length: r.length)
            for l in lists { _ = try await saver.saveMetadata(.list, l.encodedListBlob()) }
        }
        progress.update { $0.newBytes = saver.currentStats.newDataRawBytes }
    }

    func abandon() async {
        if let t = inflight?.task { _ = try? await t.value }
        inflight = nil
        await saver.abandon()
    }
}
