import CairnFormat

/// A `list` blob's plaintext (ContentRef: a slice of a large file's chunk list).
enum ContentListTarget {
    static let target = FuzzTarget(
        name: "content-list", maxLength: 16 << 10, summary: "ContentRef.decodeListBlob",
        seeds: {
            [ContentRef(level: 0, ids: [SampleValues.id(1), SampleValues.id(2)]).encodedListBlob(),
             ContentRef(level: 2, ids: [SampleValues.id(3)]).encodedListBlob()]
        },
        run: { bytes in
            guard let ref = try? ContentRef.decodeListBlob(bytes) else { return }
            require(ref.encodedListBlob() == bytes, "chunk list does not re-encode to its bytes")
        })
}
