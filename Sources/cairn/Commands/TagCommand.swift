import ArgumentParser
import CairnEngine
import CairnFormat

/// `cairn tag`: add, remove or set the tags of snapshots (restic's `tag`).
struct TagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Add, remove or replace the tags of snapshots.",
        discussion: """
            Names the snapshots by id (or unique prefix, or latest), or selects them with --name/--host/--tag/--path \
            (every selected one). --set replaces the tags, then --add adds and --remove removes; each takes a tag \
            or a comma-separated list and repeats. A retagged snapshot gets a new id (the old one is forgotten, its \
            data stays); 'cairn copy' carries tags to the destination. --json prints one JSON document.

            Examples:
              cairn tag 4f2a91c3 --add keep-forever
              cairn tag latest --name pg-r3mes --remove nightly --add before-upgrade
              cairn tag --host old-db --set retired
            """)

    @OptionGroup var options: RepositoryOptions
    @OptionGroup var lockOptions: LockOptions

    @Argument(help: "Snapshot ids, unique id prefixes or latest (default: every snapshot the filters select).")
    var snapshots: [String] = []

    @Option(help: "Snapshots of this name (repeatable: any of them).")
    var name: [String] = []

    @OptionGroup(title: "Which snapshots (without ids: every one these select)")
    var filterOptions: SnapshotFilterOptions

    @Option(help: "Add these tags (comma-separated; repeatable).") var add: [String] = []
    @Option(help: "Remove these tags (comma-separated; repeatable).") var remove: [String] = []
    @Option(help: "Replace the tags with these (comma-separated; repeatable; --set '' removes every tag).") var set: [String] = []

    static func split(_ values: [String]) -> [String] { values.flatMap { $0.split(separator: ",").map(String.init) } }

    var change: SnapshotTagger.Change {
        SnapshotTagger.Change(set: set.isEmpty ? nil : Self.split(set), add: Self.split(add), remove: Self.split(remove))
    }

    func validate() throws {
        if add.isEmpty && remove.isEmpty && set.isEmpty { throw ValidationError("nothing to change: give --add, --remove or --set") }
        if add.contains(where: { Self.split([$0]).isEmpty }) || remove.contains(where: { Self.split([$0]).isEmpty }) {
            throw ValidationError("--add and --remove take a tag (or tags separated by commas)")
        }
        let filter = filterOptions.filter(names: name)
        if snapshots.isEmpty && filter.isEmpty {
            throw ValidationError("name the snapshots (ids, or latest) or select them with --name, --host, --tag or --path")
        }
    }

    func run() async throws {
        let (repo, lock) = try await options.openLocked(exclusive: true, operation: "tag", wait: lockOptions.seconds)
        let filter = filterOptions.filter(names: name)
        let change = self.change
        let rewrites = try await lock.holding { () -> [SnapshotTagger.Rewrite] in
            let records = try filter.records(ids: snapshots, in: repo)
            return try await SnapshotTagger(repo: repo).retag(records, change, commitCheck: { try await lock.ensureValid() })
        }
        if options.json {
            Terminal.json(rewrites.map { TagJSON(old: $0.old.hex, new: $0.new.hex, tags: $0.tags) })
            return
        }
        for r in rewrites {
            Terminal.out("snapshot \(r.old.prefix(8)) is now \(r.new.prefix(8)), tags: \(r.tags.isEmpty ? "(none)" : r.tags.map(EscapedText.escape).joined(separator: ","))")
        }
        Terminal.out(rewrites.isEmpty ? "no snapshot changed" : "\(rewrites.count) snapshot(s) retagged")
    }
}

struct TagJSON: Encodable {
    let old: String, new: String, tags: [String]
}
