import ArgumentParser
import CairnEngine
import CairnFormat

struct SnapshotsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "snapshots", abstract: "List snapshots.")

    @OptionGroup var options: RepositoryOptions

    @Option(help: "Only snapshots of this name.")
    var name: String?

    func run() async throws {
        let repo = try await options.open()
        let records = try repo.snapshots(name: name)
        if options.json {
            Terminal.json(records.map(SnapshotJSON.init))
            return
        }
        Terminal.out("ID        TIME                  HOST            NAME                 SIZE        TAGS")
        for r in records {
            let s = r.snapshot
            // Names, hosts and tags escaped (`EscapedText`): whoever can write a snapshot cannot draw on the terminal.
            Terminal.out("\(r.id.prefix(8))  \(Terminal.rfc3339(s.timeNanos).padding(20))  \(EscapedText.escape(s.host).padding(14))  \(EscapedText.escape(s.name).padding(19))  \(Terminal.bytes(s.logicalBytes).padding(10))  \(s.tags.map(EscapedText.escape).joined(separator: ","))")
        }
        Terminal.out("\(records.count) snapshot(s)")
    }
}

struct SnapshotJSON: Encodable {
    let id: String, name: String, time: String, host: String, user: String, tags: [String], paths: [String]
    let kind: String, logical_bytes: UInt64, files: UInt64, new_bytes: UInt64, parent: String?
    let extra: [String: String]

    init(_ r: SnapshotRecord) {
        let s = r.snapshot
        id = r.id; name = s.name; time = Terminal.rfc3339(s.timeNanos); host = s.host; user = s.user
        tags = s.tags; paths = s.paths; kind = s.sourceKind; logical_bytes = s.logicalBytes
        files = s.fileCount; new_bytes = s.newBytes; parent = s.parent?.hex; extra = s.extra
    }
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
