import CairnFormat

/// A forget record's plaintext: the snapshots `forget` removed, so a replayed
/// snapshot object is recognised.
enum ForgetRecordTarget {
    static let target = FuzzTarget(
        name: "forget-record", maxLength: 16 << 10, summary: "ForgetRecord.decode",
        seeds: { [ForgetRecord(timeNanos: 1_700_000_000_000_000_000, snapshots: [SampleValues.name(1), SampleValues.name(2)]).encoded()] },
        run: { bytes in
            guard let record = try? ForgetRecord.decode(bytes) else { return }
            require(record.encoded() == bytes, "forget record does not re-encode to its bytes")
        })
}
