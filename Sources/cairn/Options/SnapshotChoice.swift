import ArgumentParser
import CairnEngine
import CairnRepository
import CairnFormat
import Foundation

/// The one snapshot `ls`, `dump` and `restore` work on: an id, a unique id
/// prefix or `latest`, where `latest` is the newest one `--name` and the
/// snapshot filters select.
struct SnapshotChoice: ParsableArguments {
    @Argument(help: "Snapshot id, unique id prefix, or latest.")
    var snapshot: String

    @Option(help: "With latest: the snapshot name to pick from.")
    var name: String?

    @OptionGroup(title: "With latest: pick from the snapshots these select")
    var filterOptions: SnapshotFilterOptions

    /// The chosen snapshot in `repo` (a clear error when none or several match).
    func resolve(in repo: Repository) throws -> SnapshotRecord {
        try repo.resolveSnapshot(snapshot, filter: filterOptions.filter(names: name.map { [$0] } ?? []))
    }
}

extension SnapshotFilter {
    /// The snapshots `ids` name (ids, unique prefixes or `latest` among those the
    /// filter selects), each once in the order given; with no ids, every snapshot
    /// the filter selects. Shared by `find`, `tag`, `forget ID...` and `copy`.
    func records(ids: [String], in repo: Repository) throws -> [SnapshotRecord] {
        if ids.isEmpty { return try repo.snapshots(matching: self) }
        var seen = Set<SnapshotID>()
        return try ids.map { try repo.resolveSnapshot($0, filter: self) }.filter { seen.insert($0.id).inserted }
    }
}
