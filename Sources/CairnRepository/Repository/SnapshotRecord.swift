import CairnFormat

/// A snapshot together with its id (the name of its object in the store).
public struct SnapshotRecord: Sendable {
    public let id: SnapshotID
    public let snapshot: Snapshot

    public init(id: SnapshotID, snapshot: Snapshot) { self.id = id; self.snapshot = snapshot }
}
