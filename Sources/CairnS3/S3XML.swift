import Foundation

/// Just enough XML for S3's answers: the text of named elements, in order.
/// S3 responses are flat and well-formed; element names are unique per meaning.
enum S3XML {
    /// The text of every `<name>…</name>` in `xml`, entities decoded.
    static func values(_ name: String, in xml: String) -> [String] {
        var out: [String] = []
        let open = "<\(name)>", close = "</\(name)>"
        var rest = xml[...]
        while let o = rest.range(of: open) {
            guard let c = rest[o.upperBound...].range(of: close) else { break }
            out.append(unescape(String(rest[o.upperBound..<c.lowerBound])))
            rest = rest[c.upperBound...]
        }
        return out
    }

    static func first(_ name: String, in xml: String) -> String? { values(name, in: xml).first }

    /// The elements named in `names`, in document order, with their tag (raw inner text: look into it with `first`).
    static func elements(_ names: [String], in xml: String) -> [(tag: String, body: String)] {
        var out: [(tag: String, body: String)] = []
        var rest = xml[...]
        while true {
            var next: (name: String, open: Range<Substring.Index>)?
            for name in names {
                if let o = rest.range(of: "<\(name)>"), next.map({ o.lowerBound < $0.open.lowerBound }) ?? true { next = (name, o) }
            }
            guard let next, let c = rest[next.open.upperBound...].range(of: "</\(next.name)>") else { break }
            out.append((next.name, String(rest[next.open.upperBound..<c.lowerBound])))
            rest = rest[c.upperBound...]
        }
        return out
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
