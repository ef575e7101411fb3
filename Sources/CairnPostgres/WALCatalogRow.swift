import CairnFormat
import CairnIndex

/// One archived PostgreSQL WAL file as the cache catalogues it: which
/// snapshot holds it, its name and content hash. Read from the indexed
/// attributes of the snapshot (its `extra` facts), never by decoding it.
public struct WALCatalogRow: Sendable, Hashable {
    public var snapshotID: String
    /// The WAL file name PostgreSQL gave (`000000010000000000000003`, `00000002.history`, ...).
    public var file: String
    public var sha256: String
    public var size: Int64
    /// When it was archived (the snapshot time), nanoseconds since the epoch.
    public var timeNanos: Int64
    public var systemID: String

    public init(snapshotID: String, file: String, sha256: String, size: Int64, timeNanos: Int64, systemID: String) {
        self.snapshotID = snapshotID; self.file = file; self.sha256 = sha256; self.size = size
        self.timeNanos = timeNanos; self.systemID = systemID
    }
}

extension WALCatalogRow {
    /// The attributes a catalogue row is read from, besides the file name searched by.
    static let fields = [WALArchive.Key.sha256, WALArchive.Key.size, WALArchive.Key.systemID]

    /// The snapshots of WAL name `name` that archive a WAL file (`pg-wal-file` and `pg-wal-sha256`,
    /// format-spec §13): with `file`, only the copies of that file; with `valueGlob`, files whose name matches.
    static func query(name: String, file: String? = nil, valueGlob: String? = nil) -> AttributeQuery {
        AttributeQuery(name: name, key: WALArchive.Key.file, value: file, valueGlob: valueGlob, requiring: [WALArchive.Key.sha256])
    }

    /// The row of one snapshot found by `query`. A snapshot without `pg-wal-size` (none this
    /// Cairn writes) has the size of its stream, read from its cached plaintext.
    init(_ s: AttributedSnapshot, index: RepositoryIndex) {
        let size = s.attributes[WALArchive.Key.size].flatMap { Int64($0) }
            ?? (try? index.snapshotPlaintext(id: s.id)).flatMap { $0 }.flatMap { try? Snapshot.decode($0) }.map { Int64(clamping: $0.logicalBytes) }
            ?? 0
        self.init(snapshotID: s.id, file: s.value, sha256: s.attributes[WALArchive.Key.sha256] ?? "", size: size, timeNanos: s.timeNanos,
                  systemID: s.attributes[WALArchive.Key.systemID] ?? "")
    }
}
