import CairnFormat
import CairnRepository

/// `cairn tag`: rewrites snapshots with changed tags. A snapshot's id is the
/// hash of its stored bytes, so a retagged snapshot is a new object: the new
/// one is stored first, then the old one removed with a forget record
/// (format-spec §20), so an interrupted retag leaves both, never neither.
public struct SnapshotTagger {
    let repo: Repository
    public init(repo: Repository) { self.repo = repo }

    /// How the tags change: `set` replaces them all (when given), then `add`, then `remove`.
    public struct Change: Sendable {
        public var set: [String]?
        public var add: [String] = []
        public var remove: [String] = []
        public init(set: [String]? = nil, add: [String] = [], remove: [String] = []) {
            self.set = set; self.add = add; self.remove = remove
        }

        /// The tags after the change, in their first order, without duplicates.
        public func apply(to tags: [String]) -> [String] {
            var out: [String] = []
            for t in (set ?? tags) + add where !remove.contains(t) && !out.contains(t) { out.append(t) }
            return out
        }
    }

    /// One rewritten snapshot.
    public struct Rewrite: Sendable {
        public let old: SnapshotID
        public let new: SnapshotID
        public let tags: [String]
    }

    /// Rewrites the snapshots whose tags `change` alters; the others are left
    /// as they are. `commitCheck` runs before each write.
    public func retag(_ records: [SnapshotRecord], _ change: Change,
                      commitCheck: (() async throws -> Void)? = nil) async throws -> [Rewrite] {
        var done: [Rewrite] = []
        for r in records {
            let tags = change.apply(to: r.snapshot.tags)
            guard tags != r.snapshot.tags else { continue }
            var s = r.snapshot
            s.tags = tags
            try await commitCheck?()
            let id = try await repo.commitSnapshot(s)
            try await SnapshotForgetter(repo: repo).remove(r.id)
            done.append(Rewrite(old: r.id, new: id, tags: tags))
        }
        return done
    }
}
