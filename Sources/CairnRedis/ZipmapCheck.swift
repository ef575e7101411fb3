/// Redis's `zipmapValidateIntegrity` in deep mode, plus the duplicate-field
/// check its loader makes while converting the zipmap (RDB type 9, written by
/// Redis before 2.6) into a listpack: every length inside the string, a
/// terminator, at least one entry, the header's count right unless it says
/// "unknown" (254), and no field twice. Lengths are also required in their
/// shortest encoding: Redis's iterator steps by the decoded length, so a
/// five-byte length below 254 would make it read elsewhere than the check did.
enum ZipmapCheck {
    private static let bigLength: UInt8 = 254
    private static let end: UInt8 = 0xFF

    /// Returns the entry count.
    static func validate(_ b: [UInt8]) throws -> Int {
        guard b.count >= 2 else { throw PayloadError("zipmap of \(b.count) bytes is too short") }
        guard b[b.count - 1] == end else { throw PayloadError("zipmap does not end with its 0xFF terminator") }
        func outOfRange(_ p: Int) -> Bool { p < 2 || p > b.count - 1 }
        /// The length at `p` and the bytes its encoding takes, checked to lie inside the zipmap.
        func length(at p: Int) throws -> (value: Int, size: Int) {
            guard b[p] >= bigLength else { return (Int(b[p]), 1) }
            guard !outOfRange(p + 5) else { throw PayloadError("zipmap entry length reaches past the end") }
            let value = (1...4).reduce(0) { $0 | Int(b[p + $1]) << (8 * ($1 - 1)) }
            guard value >= Int(bigLength) else { throw PayloadError("zipmap length \(value) in the five-byte form") }
            return (value, 5)
        }
        var members = MemberSet()
        var count = 0
        var p = 1
        while b[p] != end {
            let field = try length(at: p)
            p += field.size
            let fieldStart = p
            p += field.value
            guard !outOfRange(p) else { throw PayloadError("zipmap field reaches past the end") }
            guard members.insert(b[fieldStart..<p]) else { throw PayloadError("zipmap holds a field twice") }
            let value = try length(at: p)
            guard !outOfRange(p + value.size) else { throw PayloadError("zipmap value length reaches past the end") }
            p += value.size
            let free = Int(b[p])
            p += 1 + value.value + free
            count += 1
            guard !outOfRange(p) else { throw PayloadError("zipmap value reaches past the end") }
        }
        guard count > 0 else { throw PayloadError("zipmap is empty") }
        guard b[0] == bigLength || Int(b[0]) == count else {
            throw PayloadError("zipmap header says \(b[0]) entries, it holds \(count)")
        }
        return count
    }
}
