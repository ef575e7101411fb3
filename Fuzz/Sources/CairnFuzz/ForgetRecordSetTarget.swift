import CairnFormat

/// A format-2 `forgotten/` object's plaintext: a merged forget record, many
/// snapshot ids each with the time it was removed (format-spec v2.md).
enum ForgetRecordSetTarget {
    static let target = FuzzTarget(
        name: "forget-record-set", maxLength: 16 << 10, summary: "ForgetRecordSet.decode (merged forget record)",
        seeds: {
            [ForgetRecordSet(entries: [ForgetRecordSet.Entry(id: SampleValues.name(1), timeNanos: 1_700_000_000_000_000_000),
                                       ForgetRecordSet.Entry(id: SampleValues.name(2), timeNanos: -1)]).encoded(),
             ForgetRecordSet(entries: []).encoded()]
        },
        run: { bytes in
            guard let set = try? ForgetRecordSet.decode(bytes) else { return }
            require(set.encoded() == bytes, "merged forget record does not re-encode to its bytes")
        })
}
