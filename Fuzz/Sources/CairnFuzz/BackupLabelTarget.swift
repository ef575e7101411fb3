import CairnPostgres

/// The `backup_label` a server returns from `pg_backup_stop`, stored with
/// every base backup and read again by `pg restore`.
enum BackupLabelTarget {
    static let target = FuzzTarget(
        name: "backup-label", maxLength: 4096, summary: "BackupLabel(parsing:)",
        run: { bytes in
            guard let label = try? BackupLabel(parsing: bytes.text) else { return }
            require(LSN(label.startLSN.description) == label.startLSN, "the start LSN does not survive its text form")
        })
}
