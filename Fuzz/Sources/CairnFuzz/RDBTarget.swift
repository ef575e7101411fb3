import CairnRedis

/// An RDB file (a `redis backup` source, or a server's replication stream):
/// the validator that gates every Redis snapshot. The first byte sets how many
/// bytes each read returns (0: all at once), as a socket would split them.
enum RDBTarget {
    static let target = FuzzTarget(
        name: "rdb", maxLength: 64 << 10, summary: "RDBValidator over reads of varying size",
        run: { bytes in
            var input = FuzzInput(bytes)
            let step = Int(input.byte())
            let rdb = input.remaining()
            _ = try? RDBValidator.validate(ArrayByteSource(rdb, step: step == 0 ? .max : step))
        })
}
