/// One element of a listpack or ziplist: an integer, or a string given as a
/// range of the container's bytes.
enum PackedElement: Equatable {
    case integer(Int64)
    case string(Range<Int>)

    /// The element as Redis compares it: integers as their decimal text.
    func bytes(in container: [UInt8]) -> ArraySlice<UInt8> {
        switch self {
        case .integer(let v): return ArraySlice(Array(String(v).utf8))
        case .string(let r): return container[r]
        }
    }

    /// The integer Redis reads from it (`lpGetIntegerIfValid`): an integer
    /// element, or a string in canonical decimal form that fits 64 bits.
    func integer(in container: [UInt8]) -> Int64? {
        switch self {
        case .integer(let v): return v
        case .string(let r): return PackedElement.canonicalInteger(container[r])
        }
    }

    /// Redis's `string2ll`: optional '-', no leading zeros, no '+', no spaces, 64-bit range.
    static func canonicalInteger(_ s: ArraySlice<UInt8>) -> Int64? {
        guard !s.isEmpty, s.count <= 20 else { return nil }
        if s.count == 1 && s.first == UInt8(ascii: "0") { return 0 }
        var i = s.startIndex
        let negative = s[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < s.endIndex, s[i] >= UInt8(ascii: "1"), s[i] <= UInt8(ascii: "9") else { return nil }
        var magnitude: UInt64 = 0
        while i < s.endIndex {
            let d = s[i]
            guard d >= UInt8(ascii: "0"), d <= UInt8(ascii: "9") else { return nil }
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            magnitude = a
            i += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }
}
