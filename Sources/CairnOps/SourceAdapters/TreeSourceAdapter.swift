import CairnPlan

/// Files and directory trees: `cairn backup PATH...`; the drill restores the tree and compares
/// every entry of its manifest (`cairn ls --json`) with what is on disk.
struct TreeSourceAdapter: SourceAdapter {
    var declaration: SourceDeclaration {
        var d = SourceDeclaration(kind: .tree, keys: [.init("paths", .strings, required: true), .init("exclude", .strings), .init("one-file-system", .bool)])
        d.check = { settings in
            settings.strings("paths").enumerated().filter { !$0.element.hasPrefix("/") }.map { i, path in
                .init(key: "paths", message: "\(path.debugDescription) (item \(i + 1)) must be an absolute path")
            }
        }
        return d
    }

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

extension SourceKind {
    /// `cairn backup PATH...`: files and directory trees.
    public static let tree: SourceKind = "tree"
}

extension PlanSource {
    /// tree: what to back up (absolute paths).
    public var paths: [String] { settings.strings("paths") }
    /// tree: `--exclude` patterns.
    public var exclude: [String] { settings.strings("exclude") }
    /// tree: stay on the file system of each path.
    public var oneFileSystem: Bool { settings.bool("one-file-system") }
}
