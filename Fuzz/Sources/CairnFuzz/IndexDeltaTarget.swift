import CairnFormat

/// An `index/` object's plaintext.
enum IndexDeltaTarget {
    static let target = FuzzTarget(
        name: "index-delta", maxLength: 16 << 10, summary: "IndexDelta.decode",
        seeds: { [SampleValues.indexDelta.encoded(), IndexDelta(packs: []).encoded()] },
        run: { bytes in
            guard let delta = try? IndexDelta.decode(bytes) else { return }
            require(delta.encoded() == bytes, "index delta does not re-encode to its bytes")
        })
}
