import ArgumentParser
import CairnEngine
import CairnFormat
import Foundation

/// `cairn diff A B`: what changed between two snapshots (restic's `diff`).
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show the paths added, removed and changed between two snapshots.",
        discussion: """
            One line per changed path, marked as restic marks them: + added, - removed, M content changed \
            (with the sizes), U only metadata changed (mode, owner, mtime, xattrs: named), T type changed. \
            Directories end in '/'. Unchanged directories are skipped without being read. A summary follows. \
            --json prints JSON lines: one {"message_type":"change",...} object per path, then one \
            {"message_type":"statistics",...}. Times in JSON are RFC 3339 UTC.

            Examples:
              cairn diff 4f2a91c3 latest --name node-config
              cairn diff 4f2a91c3 77b0e1d2 --json | jq 'select(.modifier=="M") | .path'
            """)

    @OptionGroup var options: RepositoryOptions
    @OptionGroup var lockOptions: ReadLockOptions

    @Argument(help: "The older snapshot: id, unique id prefix or latest.")
    var first: String

    @Argument(help: "The newer snapshot: id, unique id prefix or latest.")
    var second: String

    @Option(help: "With latest: the snapshot name to pick from.")
    var name: String?

    @OptionGroup(title: "With latest: pick from the snapshots these select")
    var filterOptions: SnapshotFilterOptions

    func run() async throws {
        let repo = try await options.openForReading(operation: "diff", lockOptions: lockOptions)
        let filter = filterOptions.filter(names: name.map { [$0] } ?? [])
        let a = try repo.resolveSnapshot(first, filter: filter), b = try repo.resolveSnapshot(second, filter: filter)
        if !options.json { Terminal.out("comparing snapshot \(a.id.prefix(8)) to \(b.id.prefix(8)):") }
        let stats = try await SnapshotDiffer(repo: repo).diff(a, b) { change in
            let node = change.new ?? change.old
            let dir = node?.kind == .directory ? "/" : ""
            if options.json {
                Terminal.json(DiffChangeJSON(change))
                return
            }
            var line = "\(change.modifier.rawValue)    \(EscapedText.escape(change.path))\(dir)"
            switch change.modifier {
            case .added, .removed:
                if let node, node.kind == .file { line += "  (\(Terminal.bytes(node.size)))" }
            case .modified:
                if let o = change.old, let n = change.new, o.kind == .file {
                    line += "  (\(Terminal.bytes(o.size)) -> \(Terminal.bytes(n.size)))"
                }
                let more = change.what.filter { $0 != "content" }
                if !more.isEmpty { line += "  [\(more.joined(separator: ", "))]" }
            case .metadata:
                line += "  [\(change.what.joined(separator: ", "))]"
            case .typeChanged:
                if let o = change.old, let n = change.new { line += "  (\(NodeJSON.typeName(o.kind)) -> \(NodeJSON.typeName(n.kind)))" }
            }
            Terminal.out(line)
        }
        if options.json {
            Terminal.json(DiffStatsJSON(source_snapshot: a.id.hex, target_snapshot: b.id.hex, stats))
            return
        }
        Terminal.out("")
        Terminal.out("Files:       \(stats.added.files) new, \(stats.removed.files) removed, \(stats.modified) changed")
        Terminal.out("Dirs:        \(stats.added.directories) new, \(stats.removed.directories) removed")
        Terminal.out("Others:      \(stats.added.others) new, \(stats.removed.others) removed")
        Terminal.out("Metadata:    \(stats.metadataOnly) changed, \(stats.typeChanged) changed type")
        Terminal.out("Added:       \(Terminal.bytes(stats.added.bytes))")
        Terminal.out("Removed:     \(Terminal.bytes(stats.removed.bytes))")
    }
}

struct DiffChangeJSON: Encodable {
    let message_type = "change"
    let path: String
    var path_raw: String? = nil
    let modifier: String
    let type: String
    var old_type: String? = nil
    var old_size: UInt64? = nil, new_size: UInt64? = nil
    var old_mtime: String? = nil, new_mtime: String? = nil
    let changed: [String]

    init(_ c: SnapshotDiffer.Change) {
        path = String(decoding: c.path, as: UTF8.self)
        path_raw = NodeJSON.rawIfNotUTF8(c.path)
        modifier = c.modifier.rawValue
        type = (c.new ?? c.old).map { NodeJSON.typeName($0.kind) } ?? "?"
        if let o = c.old {
            old_size = o.kind == .file ? o.size : nil; old_mtime = Terminal.rfc3339(o.mtime)
            if c.modifier == .typeChanged { old_type = NodeJSON.typeName(o.kind) }
        }
        if let n = c.new { new_size = n.kind == .file ? n.size : nil; new_mtime = Terminal.rfc3339(n.mtime) }
        changed = c.what
    }
}

struct DiffStatsJSON: Encodable {
    struct Side: Encodable {
        let files: Int, dirs: Int, others: Int, bytes: UInt64
        init(_ s: SnapshotDiffer.Stats.Side) { files = s.files; dirs = s.directories; others = s.others; bytes = s.bytes }
    }
    let message_type = "statistics"
    let source_snapshot: String, target_snapshot: String
    let added: Side, removed: Side
    let changed_files: Int, changed_metadata: Int, changed_type: Int

    init(source_snapshot: String, target_snapshot: String, _ s: SnapshotDiffer.Stats) {
        self.source_snapshot = source_snapshot; self.target_snapshot = target_snapshot
        added = Side(s.added); removed = Side(s.removed)
        changed_files = s.modified; changed_metadata = s.metadataOnly; changed_type = s.typeChanged
    }
}
