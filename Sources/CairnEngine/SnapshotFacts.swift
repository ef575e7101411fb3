/// The `Snapshot.extra` keys a tree backup writes when its snapshot lacks
/// something (format-spec §13), and how to read them. A snapshot without
/// them holds everything it names.
public enum SnapshotFacts {
    /// Files that changed while they were read (count).
    public static let changedDuringBackup = "changed_during_backup"
    /// Entries left out: unreadable, or replaced after the scan (count).
    public static let skipped = "skipped"
    /// Arguments of which nothing is in the snapshot (count).
    public static let sourcesMissing = "sources_missing"

    /// Whether the snapshot holds data from every path it names.
    public static func holdsEverySource(_ extra: [String: String]) -> Bool {
        guard let v = extra[sourcesMissing] else { return true }
        return v == "0"
    }

    /// Entries the snapshot left out (0 when it is complete).
    public static func skippedCount(_ extra: [String: String]) -> Int {
        extra[skipped].flatMap { Int($0) } ?? 0
    }
}
