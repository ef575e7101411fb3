import CairnCrypto
import CairnFormat
import CairnIndex
import CairnRepository
import CairnStorage

extension Pruner {
    /// Carries out `plan` (format-spec §20's order): repacks, writes the new index, then
    /// deletes the old index objects and the packs no index names any more. Each commit
    /// step runs `commitCheck` first.
    func execute(_ plan: PrunePlan, _ survey: Survey, into result: inout PruneResult) async throws {
        let ix = survey.facts.index, table = ix.table
        // 4. Repack: copy each used blob, verified, into new packs. The new packs go into the
        // new index as they are stored (a part at a time), so no entry is held for long.
        let newIndex = IndexDeltaWriter(repo: repo)
        newIndex.beforeWrite = commitCheck
        // Each pack is stored before the next is started, and named in the new index only once stored.
        let writer = PackWriter(repo: repo, keepsStored: true)
        for i in plan.repack {
            let p = try table.pack(i)
            // As large as the index says, however large the object in the store has become.
            let bytes = try await repo.store.get(ObjectKey(.data, p.id.hex), offset: 0, length: Int(p.size))
            var bases: [ChunkID: [UInt8]] = [:]   // verified base plaintexts of this pack's deltas
            for (j, e) in p.entries.enumerated() where ix.chosen[table.packs[i].records.lowerBound + j] {
                guard Int(e.offset) + Int(e.length) <= bytes.count else {
                    throw CairnError.damagedBlob(blob: e.id.hex, pack: p.id.hex, reason: "pack is truncated (prune stopped before deleting anything)")
                }
                let sealed = bytes[Int(e.offset)..<Int(e.offset) + Int(e.length)]
                var base: (id: ChunkID, plaintext: [UInt8])? = nil
                if let b = e.base {
                    if bases[b] == nil { bases[b] = try await readVerified(b, .data, in: ix) }
                    base = bases[b].map { (b, $0) }
                }
                do { _ = try repo.codec.open(Array(sealed), type: e.type, id: e.id, rawLength: e.rawLength, base: base) } catch let d as BlobDamage {
                    throw CairnError.damagedBlob(blob: e.id.hex, pack: p.id.hex, reason: "\(d.reason) (prune stopped before deleting anything; run 'cairn scrub' and 'cairn repair')")
                }
                if try await writer.add(sealed: sealed, type: e.type, id: e.id, rawLength: Int(e.rawLength), base: e.base) {
                    for stored in writer.takeStored() { try await newIndex.add(stored) }
                }
            }
            progress.update { $0.bytesDone += p.size }
        }
        try await writer.flushAll()
        for stored in writer.takeStored() { try await newIndex.add(stored) }
        result.packsWritten = writer.packsWritten
        result.bytesWritten = writer.bytesWritten
        log?("wrote \(result.packsWritten) new packs")

        // 5. Index deltas naming every pack that stays, the last superseding every old index object.
        try await commitCheck?()
        for i in plan.keep.sorted() { try await newIndex.add(try table.pack(i)) }
        let written = Set(try await newIndex.finish(supersedes: survey.indexKeys.compactMap { IndexObjectID(hex: $0.name) }))
        result.indexObjectsWritten = written.count
        log?("wrote \(written.count) index object(s) naming \(plan.keep.count + result.packsWritten) packs")

        // 6. Delete the old index objects, then 7. the packs no index names any more.
        try await commitCheck?()
        func remove(_ key: ObjectKey) async throws {
            if let lockGuard = survey.lockGuard { try await lockGuard.delete(key) } else { try await repo.store.delete(key) }
        }
        for key in survey.indexKeys where !written.contains(key.name) && !survey.lockedIndex.contains(key.name) { try await remove(key) }
        try await commitCheck?()
        for i in plan.delete + plan.repack { try await remove(ObjectKey(.data, table.packs[i].id.hex)) }
        for id in plan.unindexed { try await remove(ObjectKey(.data, id.hex)) }
        log?("deleted \(survey.indexKeys.count) index objects and \(plan.delete.count + plan.repack.count + plan.unindexed.count) packs")

    }
}
