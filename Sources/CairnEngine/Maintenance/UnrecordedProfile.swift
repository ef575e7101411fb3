import CairnFormat
import CairnRepository

/// The chunker profile a source's snapshots were cut with when they do not say so themselves:
/// snapshots written before the backup recorded `chunker-profile` (`SnapshotFacts.chunkerProfile`).
/// A re-chunking `Copier` cuts a snapshot's content again with the profile it was cut with, so
/// later backups into the destination dedup against the copy. A source adapter declares its rule
/// (CairnOps' `SourceAdapter.unrecordedProfile`, gathered by `SourceRegistry`): the PostgreSQL WAL
/// archive's snapshots were cut with `wal`, Redis's with `rdb`. The engine itself knows no source's keys.
public struct UnrecordedProfile: Sendable {
    /// The profile the source's snapshots were cut with (`ChunkerProfileName`).
    public let profile: String
    /// True for a snapshot of this source.
    public let covers: @Sendable (Snapshot) -> Bool

    public init(profile: String, covers: @escaping @Sendable (Snapshot) -> Bool) {
        self.profile = profile
        self.covers = covers
    }

    /// The profile `snapshot`'s content was cut with: the one the backup recorded, else the first
    /// rule's that covers it, else the kind's default (`dump` for a stream, `file` for a tree). A
    /// profile `config` lacks falls back to the kind's default.
    public static func profile(of snapshot: Snapshot, rules: [UnrecordedProfile], in config: RepositoryConfig) -> String {
        let fallback = snapshot.sourceKind == .stream ? ChunkerProfileName.dump : ChunkerProfileName.file
        let profile = snapshot.extra[SnapshotFacts.chunkerProfile] ?? rules.first(where: { $0.covers(snapshot) })?.profile ?? fallback
        return config.profile(named: profile) != nil ? profile : fallback
    }
}
