import CairnFormat
import CairnIndex

extension SnapshotRow {
    /// The `extra` key of a snapshot's kind for the operator (`base`, `dump`; format-spec §13).
    public static let kindKey = Snapshot.ExtraKey.pgKind.rawValue
    /// The kind recorded for an archived WAL file.
    public static let walKind = "pg-wal"

    /// The cache row of a decoded snapshot: the columns commands select by,
    /// taken from its fields and the PostgreSQL conventions of format-spec §13.
    public init(id: String, snapshot s: Snapshot, plaintext: [UInt8]) {
        let walFile = s.extra[.pgWALFile]
        let isWAL = walFile != nil && s.extra[.pgWALSHA256] != nil
        self.init(id: id, name: s.name, timeNanos: s.timeNanos, host: s.host, sourceKind: s.sourceKind.rawValue,
                  kind: s.extra[Self.kindKey] ?? (isWAL ? Self.walKind : ""),
                  walFile: isWAL ? walFile : nil, walSHA256: isWAL ? s.extra[.pgWALSHA256] : nil,
                  walSize: isWAL ? (s.extra[.pgWALSize].flatMap { Int64($0) } ?? Int64(clamping: s.logicalBytes)) : nil,
                  systemID: isWAL ? (s.extra[.pgSystemID] ?? "") : nil, plaintext: plaintext)
    }
}
