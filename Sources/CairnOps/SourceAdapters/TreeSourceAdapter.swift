import CairnPlan

/// Files and directory trees: `cairn backup PATH...`; the drill restores the tree and compares
/// every entry of its manifest (`cairn ls --json`) with what is on disk.
struct TreeSourceAdapter: SourceAdapter {
    var kind: SourceKind { .tree }

    func backup(_ s: PlanSource, waitLock: String) -> SourceBackup {
        .command(["backup"] + s.paths + ["--name", s.snapshotName] + s.tags.flatMap { ["--tag", $0] } + s.exclude.flatMap { ["--exclude", $0] }
                 + (s.oneFileSystem ? ["--one-file-system"] : []) + ["--wait-lock", waitLock, "--json"])
    }

    func drill(_ d: DrillRequest) async throws -> String {
        let target = d.scratch + "/tree", env = d.environment, repo = d.repository, name = d.source.snapshotName
        try d.timer.run("restore") {
            try env.cairnChecked(["restore", "latest", "--name", name, "--target", target], repo, "cairn restore")
        }
        return try d.timer.run("compare") {
            let ls = try env.cairn(["ls", "latest", "--name", name, "--json"], repo, stdoutPath: nil, extraEnvironment: [:], maintenance: false)
            try DrillFailure.check(ls, "cairn ls")
            return try RestoredTreeCheck.compare(manifest: ls.stdout, restoredAt: target).description
        }
    }
}
