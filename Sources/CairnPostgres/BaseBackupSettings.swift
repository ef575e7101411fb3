import CairnRepository

/// What a physical base backup is told, whether it reads the data directory (`BaseBackup`) or
/// the server's tar stream (`StreamedBaseBackup`): `cairn pg basebackup` fills one and hands it
/// to the kind it runs.
public struct BaseBackupSettings {
    public let repo: Repository
    /// The snapshot's name.
    public var name: String
    /// The WAL archive's name, recorded in the snapshot (`BaseBackup.Key.walName`).
    public var walName: String
    /// The label PostgreSQL records in `backup_label`.
    public var label = "cairn base backup"
    /// Tags recorded in the snapshot.
    public var tags: [String] = []
    /// How long to wait for the server to archive the backup's last WAL segment (seconds).
    public var archiveTimeout: Double = 600

    public init(repo: Repository, name: String, walName: String) {
        self.repo = repo; self.name = name; self.walName = walName
    }
}
