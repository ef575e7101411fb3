import Foundation

/// Just enough XML for S3's answers: the text of named elements, in order.
/// S3 responses are flat and well-formed; element names are unique per meaning.
enum S3XML {
    /// The text of every `<name>…</name>` in `xml`, entities decoded.
    static func values(_ name: String, in xml: String) -> [String] {
        elements([name], in: xml).map { unescape($0.body) }
    }

    static func first(_ name: String, in xml: String) -> String? { values(name, in: xml).first }

    /// The elements named in `names`, in document order, with their tag (raw inner text: look into it with `first`).
    /// Tags are found in the UTF-8 bytes: `range(of:)` on a `Substring` bridged the rest of the
    /// document to Foundation at every call, so a listing page took time quadratic in its length.
    static func elements(_ names: [String], in xml: String) -> [(tag: String, body: String)] {
        var xml = xml
        return xml.withUTF8 { bytes in
            let tags = names.map { (name: $0, open: Array("<\($0)>".utf8), close: Array("</\($0)>".utf8)) }
            var out: [(tag: String, body: String)] = []
            var at = 0
            while true {
                var next: (tag: Int, at: Int)?
                for (i, t) in tags.enumerated() {
                    if let o = find(t.open, in: bytes, from: at, before: next?.at ?? bytes.count) { next = (i, o) }
                }
                guard let next else { break }
                let t = tags[next.tag], start = next.at + t.open.count
                guard let c = find(t.close, in: bytes, from: start, before: bytes.count) else { break }
                out.append((t.name, String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<c]), as: UTF8.self)))
                at = c + t.close.count
            }
            return out
        }
    }

    /// Where `needle` first starts in `bytes[from..<before]` (the whole needle may run past `before`).
    private static func find(_ needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from: Int, before: Int) -> Int? {
        guard let first = needle.first, from <= bytes.count - needle.count else { return nil }
        var i = from
        let last = min(before, bytes.count - needle.count + 1)
        while i < last {
            if bytes[i] == first {
                var j = 1
                while j < needle.count && bytes[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    /// The longest entity this decodes, `&#x10FFFF;`: the search for its `;` stops
    /// there, so a body of many `&` costs linear time, not quadratic.
    static let maxEntityLength = 10

    static func unescape(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == "&", let semi = s[i...].prefix(maxEntityLength).firstIndex(of: ";") {
                let entity = s[s.index(after: i)..<semi]
                var replacement: String?
                switch entity {
                case "amp": replacement = "&"
                case "lt": replacement = "<"
                case "gt": replacement = ">"
                case "quot": replacement = "\""
                case "apos": replacement = "'"
                default:
                    if entity.hasPrefix("#x"), let v = UInt32(entity.dropFirst(2), radix: 16), let u = Unicode.Scalar(v) { replacement = String(Character(u)) }
                    else if entity.hasPrefix("#"), let v = UInt32(entity.dropFirst()), let u = Unicode.Scalar(v) { replacement = String(Character(u)) }
                }
                if let replacement { out += replacement; i = s.index(after: semi); continue }
            }
            out.append(s[i]); i = s.index(after: i)
        }
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
