/// A strict parser for the subset of TOML that plan files use.
///
/// Supported: comments, `key = value` with bare, quoted and dotted keys,
/// `[table]` and `[[array.of.tables]]` headers, basic and literal strings
/// (single line), integers (with `_` separators, `0x`/`0o`/`0b`), booleans,
/// arrays (across lines, trailing comma allowed) and inline tables. Floats,
/// dates and multi-line strings are rejected with a message saying so. Pure:
/// no I/O; every value carries its line.
public struct TOMLParser {
    private let s: [Unicode.Scalar]
    private var i = 0
    private var line = 1
    /// Arrays and inline tables open around the value being parsed.
    private var depth = 0

    /// The most dotted parts in a key and the deepest nesting of arrays and inline
    /// tables: plans use three or four; the bound keeps the recursive parser (and
    /// the tables it builds) far from the end of the stack on any input.
    public static let maxDepth = 16

    /// Parses a whole document into its root table.
    public static func parse(_ text: String) throws -> TOMLTable {
        var p = TOMLParser(text)
        return try p.document()
    }

    private init(_ text: String) { s = Array(text.unicodeScalars) }

    // MARK: - Document structure

    /// A table being built: arrays of tables and tables stay open for later headers.
    private final class Open {
        var keys: [String] = []
        var slots: [String: Slot] = [:]
        let line: Int
        var explicit = false
        init(line: Int) { self.line = line }
        func set(_ key: String, _ slot: Slot) { if slots[key] == nil { keys.append(key) }; slots[key] = slot }
    }

    private enum Slot {
        case value(TOMLNode)
        case table(Open)
        case tables(line: Int, [Open])
    }

    private mutating func document() throws -> TOMLTable {
        let root = Open(line: 1)
        var current = root
        while true {
            skipBlankLinesAndComments()
            guard let c = peek() else { break }
            if c == "[" {
                let headerLine = line
                advance()
                let isArray = peek() == "["
                if isArray { advance() }
                skipSpaces()
                let path = try keyPath()
                skipSpaces()
                guard take("]") else { throw TOMLError(line: line, "expected ']' to close the table header") }
                if isArray, !take("]") { throw TOMLError(line: line, "expected ']]' to close the array-of-tables header") }
                try endOfLine()
                current = try open(path, in: root, array: isArray, line: headerLine)
            } else {
                let keyLine = line
                let path = try keyPath()
                skipSpaces()
                guard take("=") else { throw TOMLError(line: line, "expected '=' after the key \(path.joined(separator: "."))") }
                skipSpaces()
                let node = try value()
                try endOfLine()
                try assign(path, node, in: current, line: keyLine)
            }
        }
        return close(root)
    }

    private func open(_ path: [String], in root: Open, array: Bool, line: Int) throws -> Open {
        var t = root
        for (n, key) in path.enumerated() {
            let name = path[...n].joined(separator: ".")
            let last = n == path.count - 1
            switch t.slots[key] {
            case nil:
                if last && array {
                    let element = Open(line: line)
                    element.explicit = true
                    t.set(key, .tables(line: line, [element]))
                    return element
                }
                let child = Open(line: line)
                if last { child.explicit = true }
                t.set(key, .table(child))
                t = child
            case .table(let child)?:
                if last {
                    if array { throw TOMLError(line: line, "\(name) is a table (line \(child.line)), not an array of tables") }
                    if child.explicit { throw TOMLError(line: line, "table [\(name)] is defined twice (first on line \(child.line))") }
                    child.explicit = true
                }
                t = child
            case .tables(let l, var elements)?:
                if last {
                    guard array else { throw TOMLError(line: line, "\(name) is an array of tables (line \(l)); write [[\(name)]]") }
                    let element = Open(line: line)
                    element.explicit = true
                    elements.append(element)
                    t.set(key, .tables(line: l, elements))
                    return element
                }
                guard let lastElement = elements.last else { throw TOMLError(line: line, "\(name) is empty") }
                t = lastElement
            case .value(let v)?:
                throw TOMLError(line: line, "\(name) is already \(v.value.typeName) (line \(v.line)), not a table")
            }
        }
        return t
    }

    private func assign(_ path: [String], _ node: TOMLNode, in table: Open, line: Int) throws {
        var t = table
        for (n, key) in path.dropLast().enumerated() {
            switch t.slots[key] {
            case nil:
                let child = Open(line: line)
                t.set(key, .table(child))
                t = child
            case .table(let child)?:
                t = child
            default:
                throw TOMLError(line: line, "\(path[...n].joined(separator: ".")) is already defined and is not a table")
            }
        }
        let key = path[path.count - 1]
        if let existing = t.slots[key] {
            let first: Int
            switch existing {
            case .value(let v): first = v.line
            case .table(let o): first = o.line
            case .tables(let l, _): first = l
            }
            throw TOMLError(line: line, "duplicate key \(path.joined(separator: ".")) (first on line \(first))")
        }
        t.set(key, .value(node))
    }

    private func close(_ o: Open) -> TOMLTable {
        var t = TOMLTable(line: o.line)
        t.explicitlyDefined = o.explicit
        for k in o.keys {
            switch o.slots[k] {
            case .value(let v)?: t[k] = v
            case .table(let child)?: t[k] = TOMLNode(.table(close(child)), line: child.line)
            case .tables(let l, let elements)?:
                t[k] = TOMLNode(.array(elements.map { TOMLNode(.table(close($0)), line: $0.line) }), line: l)
            case nil: break
            }
        }
        return t
    }

    // MARK: - Keys

    private mutating func keyPath() throws -> [String] {
        var parts = [try simpleKey()]
        while true {
            let save = i
            skipSpaces()
            if take(".") {
                guard parts.count < Self.maxDepth else { throw TOMLError(line: line, "a key of more than \(Self.maxDepth) dotted parts") }
                skipSpaces()
                parts.append(try simpleKey())
            } else {
                i = save
                return parts
            }
        }
    }

    private mutating func simpleKey() throws -> String {
        guard let c = peek() else { throw TOMLError(line: line, "expected a key at the end of the file") }
        if c == "\"" { return try basicString() }
        if c == "'" { return try literalString() }
        var k = ""
        while let c = peek(), Self.isBare(c) { k.unicodeScalars.append(c); advance() }
        guard !k.isEmpty else { throw TOMLError(line: line, "expected a key, found \(Self.show(c))") }
        return k
    }

    private static func isBare(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-"
    }

    // MARK: - Values

    private mutating func value() throws -> TOMLNode {
        let l = line
        guard let c = peek() else { throw TOMLError(line: line, "expected a value at the end of the file") }
        switch c {
        case "\"":
            if lookingAt("\"\"\"") { throw TOMLError(line: l, "multi-line strings are not supported; use one line with \\n escapes") }
            return TOMLNode(.string(try basicString()), line: l)
        case "'":
            if lookingAt("'''") { throw TOMLError(line: l, "multi-line strings are not supported") }
            return TOMLNode(.string(try literalString()), line: l)
        case "[", "{":
            guard depth < Self.maxDepth else { throw TOMLError(line: l, "arrays and inline tables nested more than \(Self.maxDepth) deep") }
            depth += 1
            defer { depth -= 1 }
            return TOMLNode(c == "[" ? try array() : try inlineTable(), line: l)
        case "t", "f":
            if lookingAt("true") { i += 4; return TOMLNode(.boolean(true), line: l) }
            if lookingAt("false") { i += 5; return TOMLNode(.boolean(false), line: l) }
            throw TOMLError(line: l, "expected a value, found \(word()) (strings need quotes)")
        default:
            if c == "+" || c == "-" || ("0"..."9").contains(c) { return TOMLNode(.integer(try integer()), line: l) }
            if lookingAt("inf") || lookingAt("nan") { throw TOMLError(line: l, "floats are not supported") }
            throw TOMLError(line: l, "expected a value, found \(word()) (strings need quotes)")
        }
    }

    private mutating func integer() throws -> Int64 {
        let l = line
        let text = word()
        let isHex = text.hasPrefix("0x") || text.hasPrefix("+0x") || text.hasPrefix("-0x")
        if text.contains(".") || (!isHex && (text.contains("e") || text.contains("E") || text == "inf" || text == "nan")) {
            throw TOMLError(line: l, "\(text) is a float; floats are not supported (use an integer or a string)")
        }
        if text.contains(":") || text.filter({ $0 == "-" }).count >= 2 && !text.hasPrefix("-") {
            throw TOMLError(line: l, "\(text) looks like a date or time; write it as a string")
        }
        var body = Substring(text)
        var negative = false
        if body.hasPrefix("+") { body = body.dropFirst() } else if body.hasPrefix("-") { negative = true; body = body.dropFirst() }
        var radix = 10
        for (prefix, r) in [("0x", 16), ("0o", 8), ("0b", 2)] where body.hasPrefix(prefix) {
            if negative || text.hasPrefix("+") { throw TOMLError(line: l, "\(text): a sign is not allowed with \(prefix)") }
            radix = r
            body = body.dropFirst(2)
        }
        if body.hasPrefix("_") || body.hasSuffix("_") || body.contains("__") {
            throw TOMLError(line: l, "\(text) is not an integer: '_' must stand between digits")
        }
        let digits = String(body.filter { $0 != "_" })
        if radix == 10 && digits.count > 1 && digits.hasPrefix("0") {
            throw TOMLError(line: l, "\(text) is not an integer: leading zeros are not allowed")
        }
        guard !digits.isEmpty, let magnitude = UInt64(digits, radix: radix) else {
            throw TOMLError(line: l, "\(text) is not an integer")
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw TOMLError(line: l, "\(text) does not fit in 64 bits") }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw TOMLError(line: l, "\(text) does not fit in 64 bits") }
        return Int64(magnitude)
    }

    private mutating func array() throws -> TOMLValue {
        let open = line
        advance() // [
        var items: [TOMLNode] = []
        while true {
            skipWhitespaceNewlinesAndComments()
            guard let c = peek() else { throw TOMLError(line: open, "the array opened here is not closed with ']'") }
            if c == "]" { advance(); return .array(items) }
            items.append(try value())
            skipWhitespaceNewlinesAndComments()
            if peek() == nil { throw TOMLError(line: open, "the array opened here is not closed with ']'") }
            if take(",") { continue }
            if take("]") { return .array(items) }
            throw TOMLError(line: line, "expected ',' or ']' in the array opened on line \(open), found \(peek().map(Self.show) ?? "the end of the file")")
        }
    }

    private mutating func inlineTable() throws -> TOMLValue {
        let open = line
        advance() // {
        let o = Open(line: open)
        o.explicit = true
        skipSpaces()
        if take("}") { var t = close(o); t.isInline = true; return .table(t) }
        while true {
            skipSpaces()
            let keyLine = line
            let path = try keyPath()
            skipSpaces()
            guard take("=") else { throw TOMLError(line: line, "expected '=' after the key \(path.joined(separator: ".")) in the inline table") }
            skipSpaces()
            let v = try value()
            try assign(path, v, in: o, line: keyLine)
            skipSpaces()
            if take(",") { continue }
            if take("}") { break }
            if peek() == "\n" || peek() == "\r" { throw TOMLError(line: line, "an inline table must close with '}' on the line it opens (line \(open))") }
            throw TOMLError(line: line, "expected ',' or '}' in the inline table, found \(peek().map(Self.show) ?? "the end of the file")")
        }
        var t = close(o)
        t.isInline = true
        return .table(t)
    }

    private mutating func basicString() throws -> String {
        let l = line
        advance() // "
        var out = ""
        while true {
            guard let c = peek(), c != "\n" else { throw TOMLError(line: l, "the string is not closed with '\"' on its line") }
            advance()
            if c == "\"" { return out }
            if c == "\\" {
                guard let e = peek() else { throw TOMLError(line: l, "the string ends in a lone backslash") }
                advance()
                switch e {
                case "\"": out.append("\"")
                case "\\": out.append("\\")
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "b": out.unicodeScalars.append("\u{8}")
                case "f": out.unicodeScalars.append("\u{C}")
                case "u", "U":
                    let n = e == "u" ? 4 : 8
                    var hex = ""
                    for _ in 0..<n { if let h = peek() { hex.unicodeScalars.append(h); advance() } }
                    guard hex.count == n, let v = UInt32(hex, radix: 16), let u = Unicode.Scalar(v) else {
                        throw TOMLError(line: l, "\\\(e)\(hex) is not a valid unicode escape")
                    }
                    out.unicodeScalars.append(u)
                default: throw TOMLError(line: l, "unknown escape \\\(e) in a string (use '...' for literal backslashes)")
                }
                continue
            }
            if c.value < 0x20 && c != "\t" || c.value == 0x7F { throw TOMLError(line: l, "control characters must be escaped in strings") }
            out.unicodeScalars.append(c)
        }
    }

    private mutating func literalString() throws -> String {
        let l = line
        advance() // '
        var out = ""
        while true {
            guard let c = peek(), c != "\n" else { throw TOMLError(line: l, "the string is not closed with \"'\" on its line") }
            advance()
            if c == "'" { return out }
            out.unicodeScalars.append(c)
        }
    }

    // MARK: - Lexing helpers

    private func peek() -> Unicode.Scalar? { i < s.count ? s[i] : nil }

    private mutating func advance() {
        if i < s.count { if s[i] == "\n" { line += 1 }; i += 1 }
    }

    private mutating func take(_ c: Unicode.Scalar) -> Bool {
        guard peek() == c else { return false }
        advance()
        return true
    }

    private func lookingAt(_ text: String) -> Bool {
        var j = i
        for u in text.unicodeScalars {
            guard j < s.count, s[j] == u else { return false }
            j += 1
        }
        return true
    }

    /// The run of characters up to a delimiter (for numbers and error messages); consumes it.
    private mutating func word() -> String {
        var w = ""
        while let c = peek(), !" \t\r\n,]}#".unicodeScalars.contains(c) { w.unicodeScalars.append(c); advance() }
        return w.isEmpty ? (peek().map(Self.show) ?? "the end of the file") : w
    }

    private mutating func skipSpaces() { while let c = peek(), c == " " || c == "\t" { advance() } }

    private mutating func skipComment() {
        if peek() == "#" { while let c = peek(), c != "\n" { advance() } }
    }

    private mutating func skipBlankLinesAndComments() {
        while true {
            skipSpaces()
            skipComment()
            if peek() == "\n" { advance(); continue }
            if peek() == "\r", i + 1 < s.count, s[i + 1] == "\n" { advance(); advance(); continue }
            return
        }
    }

    private mutating func skipWhitespaceNewlinesAndComments() { skipBlankLinesAndComments() }

    private mutating func endOfLine() throws {
        skipSpaces()
        skipComment()
        if peek() == "\r" { advance() }
        guard let c = peek() else { return }
        guard c == "\n" else { throw TOMLError(line: line, "expected the end of the line, found \(Self.show(c))") }
        advance()
    }

    private static func show(_ c: Unicode.Scalar) -> String {
        c.value < 0x20 ? "a control character" : "'\(Character(c))'"
    }
}
