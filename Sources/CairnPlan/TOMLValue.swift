/// A value read from a TOML document, with the line it was written on.
///
/// Only the subset the plan file needs: strings, integers, booleans, arrays
/// and tables (including inline tables and arrays of tables).
public indirect enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case boolean(Bool)
    case array([TOMLNode])
    case table(TOMLTable)

    /// A short name of the value's type for error messages ("a string", "a table").
    public var typeName: String {
        switch self {
        case .string: return "a string"
        case .integer: return "an integer"
        case .boolean: return "a boolean"
        case .array: return "an array"
        case .table: return "a table"
        }
    }
}

/// A value and the 1-based line it starts on.
public struct TOMLNode: Sendable, Equatable {
    public var value: TOMLValue
    public var line: Int
    public init(_ value: TOMLValue, line: Int) { self.value = value; self.line = line }
}

/// A table: keys in the order they were written, each with its value and line.
public struct TOMLTable: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var values: [String: TOMLNode] = [:]
    /// The line of the header (`[a.b]`) or of the first key that created it.
    public var line: Int
    /// Whether a `[header]` or an inline table defined it (it may not be defined twice).
    var explicitlyDefined = false
    /// Inline tables are closed: no key may be added to them later.
    var isInline = false

    public init(line: Int) { self.line = line }

    public subscript(key: String) -> TOMLNode? {
        get { values[key] }
        set {
            if values[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil { keys.removeAll { $0 == key } }
            values[key] = newValue
        }
    }

    /// Key/value pairs in the order written.
    public var entries: [(key: String, node: TOMLNode)] { keys.compactMap { k in values[k].map { (k, $0) } } }
}
