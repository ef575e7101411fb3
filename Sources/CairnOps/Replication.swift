import CairnPlan

/// What `cairn run`'s copy step does for the plan's `copy-from` repositories (pure).
public enum Replication {
    /// Repositories with `copy-from`, ordered so a repository is copied into
    /// before it is copied from (chains `cloud <- offsite <- onsite` work in one run).
    /// Plan check refuses cycles; any left over are appended in plan order.
    public static func order(_ plan: Plan) -> [PlanRepository] {
        var pending = plan.repositories.filter { $0.copyFrom != nil }
        var out: [PlanRepository] = []
        while !pending.isEmpty {
            // Ready: its source is not itself waiting for a copy.
            guard let i = pending.firstIndex(where: { r in !pending.contains { $0.name == r.copyFrom } }) else {
                out += pending
                break
            }
            out.append(pending.remove(at: i))
        }
        return out
    }

    /// The source's new snapshots for the destination: per name (backups and drill records alike),
    /// those newer than the destination's newest of that name, oldest first, as ids. Older ones the
    /// destination lacks were forgotten there by its own `keep` and are not brought back; scrub
    /// records describe the repository they are in and are never copied. Nil when
    /// either repository could not be read (the copy then runs and says why it fails).
    public static func newSnapshots(source: RepositoryFacts?, destination: RepositoryFacts?) -> [String]? {
        guard let from = source?.snapshots, let to = destination?.snapshots else { return nil }
        var newest: [String: Double] = [:]
        for s in to { newest[s.name] = max(newest[s.name] ?? -.infinity, s.time) }
        return from.filter { $0.name != OpsRecord.scrubName && $0.time > newest[$0.name] ?? -.infinity }
            .sorted { $0.time < $1.time }.map(\.id)
    }
}
