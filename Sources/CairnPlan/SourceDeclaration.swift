/// How one source kind appears in a plan file: the keys its `[source.NAME]` tables take beside
/// the common ones (`kind`, `repository`, `schedule`, `rpo`, `rto`, `tags`, `snapshot-name`),
/// their types, and the rules the decoder checks. A source adapter declares it; the decoder
/// knows no kind of its own, so a new source adds no case or key here.
public struct SourceDeclaration: Sendable {
    /// The type a key's value must have.
    public enum KeyType: Sendable { case string, strings, bool }

    /// One key of the kind's tables.
    public struct Key: Sendable {
        public let name: String
        public let type: KeyType
        public let required: Bool
        public init(_ name: String, _ type: KeyType, required: Bool = false) {
            self.name = name; self.type = type; self.required = required
        }
    }

    /// A problem `check` found: the key it is about and what is wrong.
    public struct Problem: Sendable, Equatable {
        public let key: String
        public let message: String
        public init(key: String, message: String) { self.key = key; self.message = message }
    }

    public let kind: SourceKind
    public var keys: [Key]
    /// Takes `[[source.NAME.check]]` tables: SQL checks a drill runs on the restored copy.
    public var takesChecks = false
    /// Why sources of this kind take no `schedule` (nil: they may have one).
    public var notScheduled: String? = nil
    /// The key that names the snapshots (besides `snapshot-name`, which wins), and the name when
    /// neither is given (nil: the source's own name).
    public var snapshotNameKey: String? = nil
    public var defaultSnapshotName: String? = nil
    /// Checks of a decoded source's settings beyond their types (pure: no I/O).
    public var check: (@Sendable (SourceSettings) -> [Problem])? = nil

    public init(kind: SourceKind, keys: [Key]) {
        self.kind = kind
        self.keys = keys
    }

    /// Every key a table of this kind may hold besides the common ones.
    public var keyNames: [String] { keys.map(\.name) + (snapshotNameKey.map { [$0] } ?? []) + (takesChecks ? ["check"] : []) }
}

/// The kind-specific settings of one `[source.NAME]` table, typed as its kind declared them;
/// the kind's adapter reads them (absent keys read as nil, empty or false).
public struct SourceSettings: Sendable, Equatable {
    public enum Value: Sendable, Equatable { case string(String), strings([String]), bool(Bool) }

    private var values: [String: Value] = [:]
    private var lines: [String: Int] = [:]

    public init() {}

    /// Sets `key` (read at `line` of the plan).
    public mutating func set(_ key: String, _ value: Value, line: Int) {
        values[key] = value
        lines[key] = line
    }

    public func string(_ key: String) -> String? {
        if case .string(let s)? = values[key] { return s }
        return nil
    }

    public func strings(_ key: String) -> [String] {
        if case .strings(let a)? = values[key] { return a }
        return []
    }

    public func bool(_ key: String) -> Bool {
        if case .bool(let b)? = values[key] { return b }
        return false
    }

    /// The line `key` was read from (nil when the table did not hold it).
    public func line(of key: String) -> Int? { lines[key] }
}
