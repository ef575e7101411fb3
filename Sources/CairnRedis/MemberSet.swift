/// Remembers the members of one collection to find duplicates, as Redis's
/// loader does with a dictionary. Keeps a 128-bit fingerprint per member (two
/// independently seeded SipHashes plus the length), not the member, and stops
/// at `limit` members so memory stays bounded; `overflowed` then says the
/// check is incomplete.
struct MemberSet {
    private struct Fingerprint: Hashable { let length: Int, a: Int, b: Int }
    private var seen = Set<Fingerprint>()
    private let limit: Int
    private(set) var overflowed = false

    /// Members remembered per collection before giving up (about 50 MB).
    static let defaultLimit = 1 << 21

    init(limit: Int = MemberSet.defaultLimit) { self.limit = limit }

    /// Marks the check incomplete (a member too large to compare).
    mutating func giveUp() { overflowed = true; seen = [] }

    /// False when `member` was already inserted.
    mutating func insert(_ member: ArraySlice<UInt8>) -> Bool {
        guard !overflowed else { return true }
        guard seen.count < limit else { overflowed = true; seen = []; return true }
        var h1 = Hasher(), h2 = Hasher()
        h1.combine(0x5EED_0001); h2.combine(0x5EED_0002)
        member.withUnsafeBytes { h1.combine(bytes: $0); h2.combine(bytes: $0) }
        return seen.insert(Fingerprint(length: member.count, a: h1.finalize(), b: h2.finalize())).inserted
    }
}
