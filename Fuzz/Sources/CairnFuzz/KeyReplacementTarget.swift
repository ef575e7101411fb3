import CairnFormat

/// A `keys/replace-…` record's plaintext (`key passwd`'s crash-safe hand-over).
enum KeyReplacementTarget {
    static let target = FuzzTarget(
        name: "key-replacement", maxLength: 4096, summary: "KeyReplacement.decode",
        seeds: { [KeyReplacement(oldKey: String(repeating: "a", count: 64), newKey: String(repeating: "b", count: 64), timeNanos: 1).encoded()] },
        run: { bytes in
            guard let record = try? KeyReplacement.decode(bytes) else { return }
            require(record.encoded() == bytes, "key replacement record does not re-encode to its bytes")
        })
}
