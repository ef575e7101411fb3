import ArgumentParser
import CairnEngine
import CairnRepository
import CairnFormat
import CairnRetention

struct SnapshotsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots", abstract: "List snapshots.",
        discussion: """
            Filters as restic's: --host, --tag (a,b: both; repeated: either), --path (every one given) and --name. \
            --latest N shows the N newest of each group (groups by name unless --group-by says otherwise). \
            --json prints one JSON document: an array of snapshots, or with --group-by an array of \
            {"group_key": {...}, "snapshots": [...]}. Times are RFC 3339 UTC.

            Examples:
              cairn snapshots --host db1 --tag daily
              cairn snapshots --latest 1 --group-by host
              cairn -r /backups/cairn --json snapshots --path /etc
            """)

    @OptionGroup var options: RepositoryOptions
    @OptionGroup var asOfOptions: AsOfOptions

    @Option(help: "Only snapshots of this name (repeatable: any of them).")
    var name: [String] = []

    @OptionGroup var filterOptions: SnapshotFilterOptions

    @Option(help: "Only the N newest snapshots of each group.")
    var latest: Int?

    @Option(help: "Show snapshots in groups sharing these: any of name,host,tags, comma-separated.")
    var groupBy: String?

    func validate() throws {
        if let latest, latest < 1 { throw ValidationError("--latest must be 1 or more") }
        if let groupBy, Retention.GroupBy.parse(groupBy) == nil { throw ValidationError("--group-by takes name, host and tags, comma-separated") }
    }

    func run() async throws {
        let past = try await asOfOptions.asOf.asyncMap { try await options.openPast($0) }
        defer { past?.close() }
        let repo: Repository
        if let past { repo = past.repository } else { repo = try await options.open() }
        let records = try repo.snapshots(matching: filterOptions.filter(names: name))
        let groupBy = self.groupBy.flatMap(Retention.GroupBy.parse) ?? .name
        var groups = SnapshotFilter.group(records, by: groupBy, latest: latest)
        if self.groupBy == nil {
            // One list, oldest first.
            let all = groups.flatMap(\.records).sorted { ($0.snapshot.timeNanos, $0.id) < ($1.snapshot.timeNanos, $1.id) }
            groups = [(Retention.GroupKey(), latest == nil ? records : all)]
        }
        if options.json {
            if self.groupBy == nil {
                Terminal.json(groups[0].records.map(SnapshotJSON.init))
            } else {
                Terminal.json(groups.map { g in
                    SnapshotGroupJSON(group_key: .init(name: g.key.name, host: g.key.host, tags: g.key.tags), snapshots: g.records.map(SnapshotJSON.init))
                })
            }
            return
        }
        // Names, hosts and tags escaped (`EscapedText`): whoever can write a snapshot cannot draw on the terminal.
        let shown = groups.flatMap(\.records)
        let hostWidth = max(14, shown.map { EscapedText.escape($0.snapshot.host).count }.max() ?? 0)
        let nameWidth = max(19, shown.map { EscapedText.escape($0.snapshot.name).count }.max() ?? 0)
        for (i, g) in groups.enumerated() {
            if self.groupBy != nil {
                if i > 0 { Terminal.out("") }
                Terminal.out("snapshots of \(EscapedText.escape(g.key.description)):")
            }
            Terminal.out("ID        TIME                  \("HOST".padding(hostWidth))  \("NAME".padding(nameWidth))  SIZE        TAGS")
            for r in g.records {
                let s = r.snapshot
                Terminal.out("\(r.id.prefix(8))  \(Terminal.rfc3339(s.timeNanos).padding(20))  \(EscapedText.escape(s.host).padding(hostWidth))  \(EscapedText.escape(s.name).padding(nameWidth))  \(Terminal.bytes(s.logicalBytes).padding(10))  \(s.tags.map(EscapedText.escape).joined(separator: ","))")
            }
        }
        Terminal.out("\(shown.count) snapshot(s)")
    }
}

struct SnapshotGroupJSON: Encodable {
    struct Key: Encodable { let name: String?, host: String?, tags: [String]? }
    let group_key: Key
    let snapshots: [SnapshotJSON]
}

struct SnapshotJSON: Encodable {
    let id: String, name: String, time: String, host: String, user: String, tags: [String], paths: [String]
    let kind: String, logical_bytes: UInt64, files: UInt64, new_bytes: UInt64, parent: String?
    let extra: [String: String]

    init(_ r: SnapshotRecord) {
        let s = r.snapshot
        id = r.id.hex; name = s.name; time = Terminal.rfc3339(s.timeNanos); host = s.host; user = s.user
        tags = s.tags; paths = s.paths; kind = s.sourceKind.rawValue; logical_bytes = s.logicalBytes
        files = s.fileCount; new_bytes = s.newBytes; parent = s.parent?.hex; extra = s.extra
    }
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
