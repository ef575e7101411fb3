import CairnFormat

extension FastCDC {
    /// The chunk lengths of `bytes`, cut in place (no copy of the input).
    func lengths(of bytes: ArraySlice<UInt8>) -> [Int] {
        var out: [Int] = []
        bytes.withUnsafeBytes { all in
            var offset = 0
            while offset < all.count {
                let n = cut(UnsafeRawBufferPointer(rebasing: all[offset...]))
                precondition(n > 0, "cut returned 0 on non-empty input")
                out.append(n); offset += n
            }
        }
        return out
    }

    func lengths(of bytes: [UInt8]) -> [Int] { lengths(of: bytes[...]) }
}

/// Parses "0x…" (or bare) hexadecimal into a UInt64, as the vector files write seeds.
func parseHexUInt64(_ s: String) -> UInt64? {
    UInt64(s.hasPrefix("0x") ? String(s.dropFirst(2)) : s, radix: 16)
}
