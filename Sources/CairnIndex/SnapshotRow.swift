/// One cached snapshot: its id, the columns commands select by (indexed, so
/// that `snapshots --name X` and `latest` never decode every snapshot), its
/// indexed attributes, and its encoded plaintext.
public struct SnapshotRow: Sendable, Equatable {
    public var id: String
    public var name: String
    public var timeNanos: Int64
    public var host: String
    /// `tree` or `stream` (format-spec §13).
    public var sourceKind: String
    /// Facts a source selects snapshots by (the snapshot's `extra`), indexed by
    /// (key, name, value) so that a source adapter finds its snapshots without
    /// decoding any (`snapshots(_:fields:)`). Written with the row and kept while
    /// the snapshot is cached; a row read back carries none (its plaintext holds
    /// them all), and adding it again keeps the ones recorded.
    public var attributes: [String: String]
    public var plaintext: [UInt8]

    public init(id: String, name: String, timeNanos: Int64, host: String = "", sourceKind: String = "",
                attributes: [String: String] = [:], plaintext: [UInt8]) {
        self.id = id; self.name = name; self.timeNanos = timeNanos; self.host = host; self.sourceKind = sourceKind
        self.attributes = attributes; self.plaintext = plaintext
    }
}
