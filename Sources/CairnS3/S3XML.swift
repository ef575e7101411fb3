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
    /// One pass over the UTF-8 bytes: each `<` is matched against the names' opening tags, and an
    /// element's closing tag is searched from its start only. (`range(of:)` on a `Substring` bridged
    /// the rest of the document to Foundation at every call; searching each name ahead on its own
    /// rescanned the page for a name absent from it, once per element found.)
    static func elements(_ names: [String], in xml: String) -> [(tag: String, body: String)] {
        var xml = xml
        return xml.withUTF8 { bytes in
            let tags = names.map { (name: $0, open: Array("<\($0)>".utf8), close: Array("</\($0)>".utf8)) }
            let openings = tags.map(\.open)
            var out: [(tag: String, body: String)] = []
            var at = 0
            while let next = firstOpening(openings, in: bytes, from: at) {
                let t = tags[next.tag], start = next.at + t.open.count
                guard let c = find(t.close, in: bytes, from: start) else { break }
                out.append((t.name, String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<c]), as: UTF8.self)))
                at = c + t.close.count
            }
            return out
        }
    }

    /// The first of `openings` at or after `from`: which one, and where it starts.
    private static func firstOpening(_ openings: [[UInt8]], in bytes: UnsafeBufferPointer<UInt8>, from: Int) -> (tag: Int, at: Int)? {
        var i = from
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "<"), let tag = openings.firstIndex(where: { matches($0, in: bytes, at: i) }) { return (tag, i) }
            i += 1
        }
        return nil
    }

    /// Where `needle` first starts in `bytes` at or after `from`.
    private static func find(_ needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var i = from
        while i + needle.count <= bytes.count {
            if matches(needle, in: bytes, at: i) { return i }
            i += 1
        }
        return nil
    }

    /// Whether `bytes` holds `needle` at `i`.
    private static func matches(_ needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        guard i + needle.count <= bytes.count else { return false }
        for j in needle.indices where bytes[i + j] != needle[j] { return false }
        return true
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
