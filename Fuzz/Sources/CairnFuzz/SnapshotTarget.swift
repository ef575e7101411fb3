import CairnFormat

/// A `snapshots/` object's plaintext.
enum SnapshotTarget {
    static let target = FuzzTarget(
        name: "snapshot", maxLength: 16 << 10, summary: "Snapshot.decode",
        seeds: { [SampleValues.snapshot.encoded()] },
        run: { bytes in
            guard let snapshot = try? Snapshot.decode(bytes) else { return }
            require(snapshot.encoded() == bytes, "snapshot does not re-encode to its bytes")
        })
}
