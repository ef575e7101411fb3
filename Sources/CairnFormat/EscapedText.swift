/// Names and paths for people: raw bytes (POSIX names need not be UTF-8 and
/// may hold newlines or terminal escapes) turned into one printable line, the
/// way `ls -b` and restic do, so that distinct names always print distinctly
/// and nothing in a name can move the cursor or forge another line.
///
/// - printable ASCII and printable non-ASCII UTF-8 are shown as they are;
/// - `\` is shown as `\\`; tab, newline and carriage return as `\t`, `\n`, `\r`;
/// - other control bytes, DEL and every byte that is not part of valid UTF-8 as
///   `\xNN` (two lowercase hex digits);
/// - valid UTF-8 for a character that is not printable (C1 controls, format
///   characters such as bidirectional overrides, line and paragraph
///   separators, private use, unassigned) as `\uNNNN` or `\UNNNNNNNN`.
///
/// `unescape` inverts it exactly: `unescape(escape(b)) == b` for all bytes.
public enum EscapedText {
    public static func escape(_ bytes: [UInt8]) -> String {
        var out = ""
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b < 0x80 {
                switch b {
                case 0x5C: out += "\\\\"
                case 0x09: out += "\\t"
                case 0x0A: out += "\\n"
                case 0x0D: out += "\\r"
                case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(b))
                default: out += hexByte(b)
                }
                i += 1
                continue
            }
            guard let (scalar, length) = decodeScalar(bytes, at: i) else {
                out += hexByte(b)
                i += 1
                continue
            }
            if isPrintable(scalar) {
                out.unicodeScalars.append(scalar)
            } else if scalar.value <= 0xFFFF {
                out += "\\u" + hex(scalar.value, digits: 4)
            } else {
                out += "\\U" + hex(scalar.value, digits: 8)
            }
            i += length
        }
        return out
    }

    /// `escape` of a string's UTF-8 (snapshot names, tags, hosts: valid UTF-8, maybe with control characters).
    public static func escape(_ string: String) -> String { escape(Array(string.utf8)) }

    /// A path of raw name components, "/" before each.
    public static func escapePath(_ components: [[UInt8]]) -> String {
        components.map { "/" + escape($0) }.joined()
    }

    /// The bytes an escaped text stands for, or nil when it holds a backslash
    /// sequence `escape` never writes (then it is not escaped text).
    public static func unescape(_ text: String) -> [UInt8]? {
        let s = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var i = 0
        while i < s.count {
            guard s[i] == 0x5C else { out.append(s[i]); i += 1; continue }
            guard i + 1 < s.count else { return nil }
            switch s[i + 1] {
            case 0x5C: out.append(0x5C); i += 2
            case UInt8(ascii: "t"): out.append(0x09); i += 2
            case UInt8(ascii: "n"): out.append(0x0A); i += 2
            case UInt8(ascii: "r"): out.append(0x0D); i += 2
            case UInt8(ascii: "x"):
                guard let v = hexValue(s, from: i + 2, digits: 2) else { return nil }
                out.append(UInt8(v)); i += 4
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                let digits = s[i + 1] == UInt8(ascii: "u") ? 4 : 8
                guard let v = hexValue(s, from: i + 2, digits: digits), let scalar = Unicode.Scalar(v) else { return nil }
                out += Array(String(Character(scalar)).utf8)
                i += 2 + digits
            default: return nil
            }
        }
        return out
    }

    // MARK: helpers

    private static let digits = Array("0123456789abcdef".utf8)

    private static func hexByte(_ b: UInt8) -> String {
        String(decoding: [0x5C, UInt8(ascii: "x"), digits[Int(b >> 4)], digits[Int(b & 0xF)]], as: UTF8.self)
    }

    private static func hex(_ v: UInt32, digits count: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, count - s.count)) + s
    }

    private static func hexValue(_ s: [UInt8], from start: Int, digits count: Int) -> UInt32? {
        guard start + count <= s.count else { return nil }
        var v: UInt32 = 0
        for c in s[start..<start + count] {
            guard let d = digits.firstIndex(of: c) ?? Array("ABCDEF".utf8).firstIndex(of: c).map({ $0 + 10 }) else { return nil }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// One well-formed UTF-8 sequence (shortest form, no surrogates, ≤ U+10FFFF) at `i`.
    private static func decodeScalar(_ b: [UInt8], at i: Int) -> (Unicode.Scalar, Int)? {
        let lead = b[i]
        let length: Int, initial: UInt32, minimum: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; initial = UInt32(lead & 0x1F); minimum = 0x80
        case 0xE0...0xEF: length = 3; initial = UInt32(lead & 0x0F); minimum = 0x800
        case 0xF0...0xF4: length = 4; initial = UInt32(lead & 0x07); minimum = 0x10000
        default: return nil
        }
        guard i + length <= b.count else { return nil }
        var v = initial
        for k in 1..<length {
            let c = b[i + k]
            guard c & 0xC0 == 0x80 else { return nil }
            v = v << 6 | UInt32(c & 0x3F)
        }
        guard v >= minimum, let scalar = Unicode.Scalar(v) else { return nil }
        return (scalar, length)
    }

    private static func isPrintable(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .surrogate, .unassigned: return false
        default: return true
        }
    }
}
