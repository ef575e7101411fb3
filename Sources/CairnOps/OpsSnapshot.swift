import CairnEngine
import CairnRepository

/// What operations need of a snapshot: its name, time, sizes and recorded facts.
public struct OpsSnapshot: Sendable {
    public var id: String
    public var name: String
    /// Seconds since the epoch.
    public var time: Double
    public var tags: [String]
    public var logicalBytes: UInt64
    /// Plaintext bytes of chunks new to the repository when it was made (its growth).
    public var newBytes: UInt64
    public var extra: [String: String]

    public init(id: String, name: String, time: Double, tags: [String] = [], logicalBytes: UInt64 = 0, newBytes: UInt64 = 0, extra: [String: String] = [:]) {
        self.id = id; self.name = name; self.time = time; self.tags = tags
        self.logicalBytes = logicalBytes; self.newBytes = newBytes; self.extra = extra
    }

    public init(_ r: SnapshotRecord) {
        let s = r.snapshot
        self.init(id: r.id.hex, name: s.name, time: Double(s.timeNanos) / 1e9, tags: s.tags,
                  logicalBytes: s.logicalBytes, newBytes: s.newBytes, extra: s.extra)
    }

    /// Whether this is one of the records `cairn drill`/`cairn run` keep (not a backup).
    public var isOpsRecord: Bool { tags.contains(OpsRecord.tag) }
}
