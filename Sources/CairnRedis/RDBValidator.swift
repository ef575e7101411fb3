/// Checks an RDB from its magic to its CRC-64 trailer without loading it.
///
/// It walks the structure the way Redis's loader does — every opcode, every
/// length, every value type of RDB versions 1-12 — and makes the payload
/// checks `redis-check-rdb` makes (it loads with deep sanitisation): LZF data
/// that decompresses to exactly its stated length, listpacks, ziplists and
/// intsets entry by entry, no duplicate members in sets, hashes and sorted
/// sets, no NaN scores, no empty keys, stream listpacks and consumer groups
/// whose pending entries each belong to one consumer. It fails on a wrong
/// magic, an unknown version, opcode or type, a length that runs past the end,
/// a checksum mismatch and bytes after the trailer. The stored checksum 0 means
/// the writer disabled checksums (`rdbchecksum no`); then these checks are all
/// that vouch for the bytes.
///
/// Memory stays bounded: plain strings stream through one 256 KiB buffer;
/// containers and members are decoded up to `decodeLimit` (8 MiB) and
/// collections remember at most 2 Mi member fingerprints; what is larger is
/// counted in `RDBSummary.uncheckedValues`.
///
/// Pure: it reads only from the `RDBByteSource` it is given.
public enum RDBValidator {
    /// The newest RDB version this validator understands (Redis 7.4).
    public static let newestVersion = 12

    /// Validates the whole input; throws `RDBError` at the first problem.
    public static func validate<S: RDBByteSource>(_ source: S) throws -> RDBSummary {
        var walker = RDBWalker(reader: RDBReader(source: source))
        return try walker.run()
    }

    /// Validates an in-memory RDB.
    public static func validate(bytes: [UInt8]) throws -> RDBSummary {
        try validate(ArrayByteSource(bytes))
    }
}
