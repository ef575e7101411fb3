/// Redis's `intsetValidateIntegrity` in deep mode: width 2, 4 or 8, the
/// byte count matching the element count, not empty, strictly increasing.
enum IntsetCheck {
    /// Returns the element count.
    static func validate(_ b: [UInt8]) throws -> Int {
        guard b.count >= 8 else { throw PayloadError("intset of \(b.count) bytes is too short") }
        func le(_ at: Int, _ n: Int) -> UInt64 { (0..<n).reduce(UInt64(0)) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) } }
        let width = Int(le(0, 4)), count = Int(le(4, 4))
        guard width == 2 || width == 4 || width == 8 else { throw PayloadError("intset element width \(width)") }
        guard 8 + width * count == b.count else { throw PayloadError("intset of \(count) × \(width) bytes in a \(b.count)-byte string") }
        guard count > 0 else { throw PayloadError("intset is empty") }
        func value(_ i: Int) -> Int64 {
            let u = le(8 + i * width, width)
            switch width {
            case 2: return Int64(Int16(truncatingIfNeeded: u))
            case 4: return Int64(Int32(truncatingIfNeeded: u))
            default: return Int64(bitPattern: u)
            }
        }
        var previous = value(0)
        for i in 1..<max(1, count) {
            let v = value(i)
            guard v != previous else { throw PayloadError("intset holds \(v) twice") }
            guard v > previous else { throw PayloadError("intset is not sorted (\(v) after \(previous))") }
            previous = v
        }
        return count
    }
}
