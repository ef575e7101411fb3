import CairnFormat
import CairnIndex

extension SnapshotRow {
    /// The cache row of a decoded snapshot: the columns commands select by,
    /// and its `extra` facts as indexed attributes (what a source adapter
    /// finds its snapshots by: CairnPostgres's WAL files and base backups).
    public init(id: String, snapshot s: Snapshot, plaintext: [UInt8]) {
        self.init(id: id, name: s.name, timeNanos: s.timeNanos, host: s.host, sourceKind: s.sourceKind.rawValue,
                  attributes: s.extra, plaintext: plaintext)
    }
}
