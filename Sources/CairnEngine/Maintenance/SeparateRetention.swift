import CairnFormat

/// Snapshots a source keeps by a rule of its own instead of a calendar policy: PostgreSQL's
/// archived WAL files are kept by what the base backups need (a daily bucket would keep one
/// segment a day and break every point-in-time restore between them). A source adapter declares
/// its rule (CairnOps' `SourceAdapter.separateRetention`, gathered by `SourceRegistry`);
/// `SnapshotForgetter`'s policy never looks at the snapshots a rule covers, and the source's own
/// rule removes them. The engine itself knows no source's keys.
public struct SeparateRetention: Sendable {
    /// What the rule keeps, for messages ("archived WAL files").
    public let what: String
    /// True for a snapshot this rule, not a calendar policy, keeps or removes.
    public let covers: @Sendable (Snapshot) -> Bool

    public init(what: String, covers: @escaping @Sendable (Snapshot) -> Bool) {
        self.what = what
        self.covers = covers
    }
}
