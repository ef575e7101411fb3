import CairnFormat

/// The `Snapshot.extra` keys every backup writes (format-spec §13): the
/// chunker profile it cut content with, and, when a tree backup's snapshot
/// lacks something, what it lacks. A snapshot without the latter holds
/// everything it names.
public enum SnapshotFacts {
    /// The chunker profile the content was cut with ("file", "dump", "rdb",
    /// "wal" or a custom one): a copy into a repository that cuts otherwise
    /// re-chunks with the same profile. Absent in snapshots written before it
    /// was recorded: `Copier` then infers it from the source's own keys.
    public static let chunkerProfile = Snapshot.ExtraKey("chunker-profile")
    /// Files that changed while they were read (count).
    public static let changedDuringBackup = Snapshot.ExtraKey("changed_during_backup")
    /// Entries left out: unreadable, or replaced after the scan (count).
    public static let skipped = Snapshot.ExtraKey("skipped")
    /// Arguments of which nothing is in the snapshot (count).
    public static let sourcesMissing = Snapshot.ExtraKey("sources_missing")

    /// How a tree snapshot lays out its paths: "absolute" when each path is
    /// stored at its full path from the root (format-spec §13); absent in
    /// snapshots whose root holds each argument by its last component.
    public static let pathLayout = Snapshot.ExtraKey("path_layout")

    /// Written by `repair snapshots`: what a path lost (one key per path listed).
    public static func lostPath(_ path: String) -> Snapshot.ExtraKey { Snapshot.ExtraKey("lost:\(path)") }
    /// Written by `repair snapshots`: damaged paths beyond those listed (count).
    public static let lostPathsNotListed = Snapshot.ExtraKey("lost-paths-not-listed")

    /// Whether a tree snapshot stores its paths at their full path from the root.
    public static func hasFullPaths(_ extra: [String: String]) -> Bool { extra[pathLayout] == "absolute" }

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
