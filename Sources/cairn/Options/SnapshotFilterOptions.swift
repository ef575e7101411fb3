import ArgumentParser
import CairnEngine
import Foundation

/// restic's snapshot filters, shared by `snapshots`, `forget`, `copy`,
/// `restore`, `ls`, `diff`, `find` and `tag` (each command keeps its own `--name`).
struct SnapshotFilterOptions: ParsableArguments {
    @Option(name: .customLong("host"), help: "Only snapshots from this host (repeatable: any of them).")
    var hosts: [String] = []

    @Option(name: .customLong("tag"), help: "Only snapshots having all these tags (comma-separated; repeatable: any of the lists).")
    var tags: [String] = []

    @Option(name: .customLong("path"), help: "Only snapshots that include this backed-up path (as recorded, or relative to the current directory; repeatable: all of them).")
    var paths: [String] = []

    /// The filter, with the command's names.
    func filter(names: [String] = []) -> SnapshotFilter {
        SnapshotFilter(names: names, hosts: hosts, tags: tags.map { $0.split(separator: ",").map(String.init) }, paths: paths)
    }
}
