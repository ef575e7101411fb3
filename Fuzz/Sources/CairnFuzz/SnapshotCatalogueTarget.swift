import CairnFormat

/// A format-2 `snapshots/` object's plaintext: a snapshot catalogue holding many
/// snapshots (format-spec v2.md), and each entry's snapshot as a reader decodes it.
enum SnapshotCatalogueTarget {
    static let target = FuzzTarget(
        name: "snapshot-catalogue", maxLength: 64 << 10, summary: "SnapshotCatalogue.decode, then Snapshot.decode of each entry",
        seeds: {
            let one = SampleValues.snapshot.encoded()
            var other = SampleValues.snapshot
            other.name = "wal"
            return [
                SnapshotCatalogue(entries: [SnapshotCatalogue.Entry(id: SampleValues.name(1), plaintext: one),
                                            SnapshotCatalogue.Entry(id: SampleValues.name(2), plaintext: other.encoded())]).encoded(),
                SnapshotCatalogue(entries: []).encoded(),
            ]
        },
        run: { bytes in
            guard let catalogue = try? SnapshotCatalogue.decode(bytes) else { return }
            require(catalogue.encoded() == bytes, "snapshot catalogue does not re-encode to its bytes")
            for entry in catalogue.entries {
                guard let snapshot = try? Snapshot.decode(entry.plaintext) else { continue }
                require(snapshot.encoded() == entry.plaintext, "catalogue entry's snapshot does not re-encode to its bytes")
            }
        })
}
