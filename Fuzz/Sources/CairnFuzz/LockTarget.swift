import CairnFormat

/// A `locks/` object's plaintext.
enum LockTarget {
    static let target = FuzzTarget(
        name: "lock", maxLength: 4096, summary: "LockRecord.decode",
        seeds: {
            [LockRecord(exclusive: true, host: "db1", pid: 4242, startNanos: 1_700_000_000_000_000_000,
                        refreshNanos: 1_700_000_300_000_000_000, user: "postgres", operation: "prune").encoded()]
        },
        run: { bytes in
            guard let lock = try? LockRecord.decode(bytes) else { return }
            require(lock.encoded() == bytes, "lock does not re-encode to its bytes")
        })
}
