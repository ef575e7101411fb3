/// A snapshot found by one of its indexed attributes (`RepositoryIndex.snapshots(name:attribute:)`).
public struct AttributedSnapshot: Sendable, Hashable {
    public var id: String
    public var timeNanos: Int64
    /// The value of the attribute searched by.
    public var value: String
    /// Those of the attributes asked for (`fields`) that the snapshot has.
    public var attributes: [String: String]

    public init(id: String, timeNanos: Int64, value: String, attributes: [String: String] = [:]) {
        self.id = id; self.timeNanos = timeNanos; self.value = value; self.attributes = attributes
    }
}

/// Which snapshots an attribute query selects: those of one name that carry
/// attribute `key` (with exactly `value`, or a value matching the SQLite GLOB
/// `valueGlob`, when given) and every attribute in `requiring`.
public struct AttributeQuery: Sendable, Hashable {
    public var name: String
    public var key: String
    public var value: String?
    public var valueGlob: String?
    public var requiring: [String]

    public init(name: String, key: String, value: String? = nil, valueGlob: String? = nil, requiring: [String] = []) {
        self.name = name; self.key = key; self.value = value; self.valueGlob = valueGlob; self.requiring = requiring
    }
}
