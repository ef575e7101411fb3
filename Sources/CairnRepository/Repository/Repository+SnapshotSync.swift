import CairnCrypto
import CairnFormat
import CairnIndex
import CairnStorage

extension Repository {
    // MARK: snapshot objects

    /// Brings the cached snapshots in step with `snapshots/`, object by
    /// object: objects listed but not loaded are read, objects loaded but no
    /// longer listed are dropped, and with them every snapshot no listed object
    /// holds. The cost follows the objects that changed, not the snapshots.
    func syncSnapshotObjects() async throws {
        let listed = Set(try await store.list(.snapshots).map(\.name))
        let known = try index.snapshotObjectNames()
        var damaged: [String: String] = [:]
        var fresh = listed.subtracting(known)
        // A single snapshot a forget record names is not a new one, whatever the store holds.
        let forgotten = try index.forgotten(Array(fresh))
        for (id, time) in forgotten.sorted(by: { $0.key < $1.key }) {
            warnOnce(ObjectKey(.snapshots, id), ForgetRecords.replayed(id, forgottenAt: time))
            fresh.remove(id)
        }
        // Each object is opened and decoded in the task that fetched it (on every core); the
        // cache takes them one at a time, in order.
        try await fetchInOrder(fresh.sorted().map { ObjectKey(.snapshots, $0) }, prepare: { [self] key, fetched in
            switch fetched {
            case .gone: return Result<DecodedSnapshotObject?, Error>.success(nil)
            case .unusable(let why): return .failure(CairnError.other(why))
            case .bytes(let bytes): return Result { try decodeSnapshotObject(key, bytes) }
            }
        }) { key, decoded in
            do {
                guard let decoded = try decoded.get() else { return }
                let (object, rows) = try withoutForgotten(decoded)
                try index.addSnapshotObject(object, rows: rows)
            } catch {
                let why = describe(error)
                damaged[key.name] = why
                warnOnce(key, "snapshot object \(key.name.prefix(12)) is damaged (\(why)): skipped; run 'cairn scrub'")
            }
        }
        damagedSnapshots.withLock { $0 = damaged }
        try index.removeSnapshotObjects(Array(known.subtracting(listed)))
    }

    /// A store object of `snapshots/`, opened and decoded (no cache access:
    /// `syncSnapshotObjects` decodes several at once).
    struct DecodedSnapshotObject: Sendable {
        var object: LoadedSnapshotObject
        var rows: [SnapshotRow]
    }

    /// A store object of `snapshots/` as the cache records it: a single
    /// snapshot (envelope version 1), checked against its name (its id:
    /// content under another name would restore the wrong snapshot), or a
    /// catalogue (version 2, format-spec v2.md), whose entries carry their
    /// ids; entries this Cairn cannot decode make it incomplete.
    func decodeSnapshotObject(_ key: ObjectKey, _ bytes: [UInt8]) throws -> DecodedSnapshotObject {
        let (version, plain) = try keys.openObjectVersioned(.snapshot, bytes)
        if version == 1 {
            guard MetadataObjects.matchesName(key, bytes) else { throw CairnError.other(MetadataObjects.nameMismatch) }
            let s = try Snapshot.decode(plain)
            return DecodedSnapshotObject(object: LoadedSnapshotObject(name: key.name, kind: .single, size: Int64(bytes.count), snapshots: 1),
                                         rows: [SnapshotRow(id: key.name, snapshot: s, plaintext: plain)])
        }
        // Sealed under the repository's key, so its content is authentic under any name.
        if !MetadataObjects.matchesName(key, bytes) {
            warnOnce(key, "snapshot catalogue \(key.name.prefix(12)) \(MetadataObjects.nameMismatch); its content is still used; run 'cairn scrub'")
        }
        let catalogue = try SnapshotCatalogue.decode(plain)
        var rows: [SnapshotRow] = []
        rows.reserveCapacity(catalogue.entries.count)
        var complete = true
        for e in catalogue.entries {
            do {
                rows.append(SnapshotRow(id: e.id.hex, snapshot: try Snapshot.decode(e.plaintext), plaintext: e.plaintext))
            } catch {
                complete = false
                warnOnce(ObjectKey(.snapshots, e.id.hex), "snapshot \(e.id.hex.prefix(12)) in catalogue \(key.name.prefix(12)) cannot be read (\(describe(error))): skipped")
            }
        }
        return DecodedSnapshotObject(object: LoadedSnapshotObject(name: key.name, kind: .catalogue, size: Int64(bytes.count),
                                                                  snapshots: rows.count, complete: complete), rows: rows)
    }

    /// A decoded object without the catalogue entries a forget record names
    /// (a forget stopped before it rewrote the catalogue, or an old catalogue
    /// put back). A single snapshot a record names never gets here.
    func withoutForgotten(_ decoded: DecodedSnapshotObject) throws -> (LoadedSnapshotObject, [SnapshotRow]) {
        guard decoded.object.kind == .catalogue else { return (decoded.object, decoded.rows) }
        let forgotten = try index.forgotten(decoded.rows.map(\.id))
        guard !forgotten.isEmpty else { return (decoded.object, decoded.rows) }
        var object = decoded.object
        let rows = decoded.rows.filter { forgotten[$0.id] == nil }
        object.snapshots = rows.count
        return (object, rows)
    }
}
