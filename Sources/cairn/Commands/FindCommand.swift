import ArgumentParser
import CairnEngine
import CairnRepository
import CairnFormat
import Foundation

/// `cairn find PATTERN...`: which snapshots hold a matching file (restic's `find`).
struct FindCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find",
        abstract: "Find files and directories in snapshots by name or path (shell globs).",
        discussion: """
            A pattern without '/' matches entry names ('*.conf', 'priv_validator_state.json'); with '/' it matches \
            the whole path from the snapshot root ('/etc/ssl/*'; '*' also spans '/'). Every snapshot is searched \
            (oldest first) unless --name/--host/--tag/--path or --snapshot narrow it; a directory unchanged between \
            snapshots is searched once. Prints each snapshot with matches, then its matches with size and mtime. \
            --json prints JSON lines: one object per match. Exit 0 also when nothing matches (then it says so).

            Examples:
              cairn find priv_validator_state.json --name node
              cairn find '*.sql' --host db1 --json
              cairn find '/etc/ssl/*' --snapshot latest
            """)

    @OptionGroup var options: RepositoryOptions
    @OptionGroup var lockOptions: ReadLockOptions

    @Argument(help: "Shell glob(s) to look for; an entry matches when any one does.")
    var patterns: [String]

    @Option(help: "Only snapshots of this name (repeatable: any of them).")
    var name: [String] = []

    @OptionGroup(title: "Which snapshots to search")
    var filterOptions: SnapshotFilterOptions

    @Option(name: .customLong("snapshot"), help: "Search only this snapshot: id, unique prefix or latest (repeatable).")
    var snapshots: [String] = []

    @Flag(name: [.customShort("i"), .long], help: "Ignore case.")
    var ignoreCase = false

    func validate() throws {
        if patterns.contains("") { throw ValidationError("a pattern is empty") }
    }

    func run() async throws {
        let repo = try await options.openForReading(operation: "find", lockOptions: lockOptions)
        let filter = filterOptions.filter(names: name)
        var records = try filter.records(ids: snapshots, in: repo)
        records.sort { ($0.snapshot.timeNanos, $0.id) < ($1.snapshot.timeNanos, $1.id) }
        let finder = SnapshotFinder(repo: repo, patterns: patterns, ignoreCase: ignoreCase)
        var total = 0, holding = 0
        for r in records {
            let found = try await finder.find(in: r)
            guard !found.isEmpty else { continue }
            total += found.count; holding += 1
            let s = r.snapshot
            if options.json {
                for m in found { Terminal.json(FindMatchJSON(record: r, match: m)) }
                continue
            }
            Terminal.out("snapshot \(r.id.prefix(8)) of \(EscapedText.escape(s.name)) from \(Terminal.rfc3339(s.timeNanos)) (host \(EscapedText.escape(s.host))):")
            for m in found {
                let size = m.node.kind == .file ? Terminal.bytes(m.node.size) : NodeJSON.typeName(m.node.kind)
                Terminal.out("  \(size.leftPadded(10))  \(Terminal.rfc3339(m.node.mtime))  \(EscapedText.escape(m.path))\(m.node.kind == .directory ? "/" : "")")
            }
        }
        if !options.json {
            Terminal.out(total == 0 ? "no matches in \(records.count) snapshot(s)" : "\(total) match(es) in \(holding) of \(records.count) snapshot(s)")
        }
    }
}

struct FindMatchJSON: Encodable {
    let snapshot_id: String, snapshot_name: String, snapshot_time: String, host: String
    let path: String
    var path_raw: String? = nil
    let type: String, size: UInt64, mtime: String, mode: UInt32

    init(record: SnapshotRecord, match: SnapshotFinder.Match) {
        snapshot_id = record.id.hex; snapshot_name = record.snapshot.name
        snapshot_time = Terminal.rfc3339(record.snapshot.timeNanos); host = record.snapshot.host
        path = String(decoding: match.path, as: UTF8.self); path_raw = NodeJSON.rawIfNotUTF8(match.path)
        type = NodeJSON.typeName(match.node.kind); size = match.node.size
        mtime = Terminal.rfc3339(match.node.mtime); mode = match.node.mode
    }
}
