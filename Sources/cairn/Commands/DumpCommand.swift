import ArgumentParser
import CairnEngine
import CairnRepository
import CairnFormat
import CairnTarExport
import Foundation

/// `cairn dump SNAPSHOT PATH`: one file of a snapshot to standard output, a
/// directory as a tar stream (restic's `dump`).
struct DumpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Write one file of a snapshot to standard output, or a directory as a tar stream.",
        discussion: """
        PATH is a path in the snapshot as 'cairn ls' shows it: its bytes, or escaped as ls prints it (\\n, \\xe9, \\\\). \
        A file's content goes to standard output, every chunk verified before it is written. A directory (or "/", the \
        whole snapshot) becomes a POSIX pax tar stream whose members are named by their paths in the snapshot without \
        the leading slash, so 'tar -x' recreates them where 'restore --target' would. Standard output must not be a \
        terminal. With --json a summary (one JSON document) goes to standard error.

        Examples:
          cairn dump latest --name node-config /config/config.toml > config.toml
          cairn dump 1a2b3c4d /data | tar -tvf -
          cairn dump latest --name pgdump /dump.pgc | pg_restore --list
        """)

    @OptionGroup var options: RepositoryOptions
    @OptionGroup var lockOptions: ReadLockOptions

    @OptionGroup var choice: SnapshotChoice

    @Argument(help: "The path in the snapshot to write (\"/\": the whole snapshot as a tar stream).")
    var path: String

    func validate() throws {
        if path.isEmpty { throw ValidationError("PATH is empty: name a path in the snapshot ('cairn ls SNAPSHOT' lists them), or / for all of it") }
        if isatty(1) == 1 { throw ValidationError("standard output is a terminal: redirect it to a file or a pipe (cairn dump SNAPSHOT PATH > FILE)") }
    }

    func run() async throws {
        let repo = try await options.openForReading(operation: "dump", lockOptions: lockOptions)
        let record = try choice.resolve(in: repo)
        let restorer = Restorer(repo: repo, snapshot: record)
        let components = try await IncludePaths.resolve([path], option: nil, record: record, repo: repo)[0]
        func showingProgress<T>(_ work: () async throws -> T) async throws -> T {
            try await ProgressLine.showing(restorer.progress, verb: "dumping", enabled: options.showProgress, during: work)
        }
        signal(SIGPIPE, SIG_IGN)
        let shown = "/" + components.map { EscapedText.escape($0) }.joined(separator: "/")
        if components.isEmpty {
            var export = TarExport(repo: repo, restorer: restorer, fd: 1)
            try await showingProgress { try await export.run(root: record.snapshot.root) }
            finish(record: record, path: "/", kind: "tar", export: export)
            return
        }
        guard let node = try await SnapshotBrowser(repo: repo).node(at: components, in: record) else {
            throw CairnError.pathNotFound("\(shown) in snapshot \(record.id.prefix(8)) ('cairn ls \(record.id.prefix(8))' lists its paths)")
        }
        switch node.kind {
        case .file:
            try await showingProgress { try await restorer.readContent(of: node, path: shown) { chunk in try writeAll(1, chunk, path: "standard output") } }
            if options.json { Terminal.json(DumpJSON(snapshot_id: record.id.hex, path: shown, kind: "file", members: nil, bytes: node.size), to: 2) }
        case .directory:
            var export = TarExport(repo: repo, restorer: restorer, fd: 1)
            try await showingProgress { try await export.run(nodes: [node], under: Array(components.dropLast().joined(separator: [47]))) }
            finish(record: record, path: shown, kind: "tar", export: export)
        case .symlink:
            throw CairnError.invalidArgument("\(shown) in snapshot \(record.id.prefix(8)) is a symbolic link to \(EscapedText.escape(node.linkTarget)): dump its target, or its directory as a tar stream")
        default:
            throw CairnError.invalidArgument("\(shown) in snapshot \(record.id.prefix(8)) is a \(Self.describe(node.kind)) and has no content to write: dump its directory as a tar stream")
        }
    }

    private static func describe(_ kind: NodeKind) -> String {
        switch kind {
        case .fifo: return "named pipe"
        case .characterDevice: return "character device"
        case .blockDevice: return "block device"
        case .socket: return "socket"
        case .file: return "file"
        case .directory: return "directory"
        case .symlink: return "symbolic link"
        }
    }

    private func finish(record: SnapshotRecord, path: String, kind: String, export: TarExport) {
        for w in export.warnings { Terminal.warn(w) }
        if options.json { Terminal.json(DumpJSON(snapshot_id: record.id.hex, path: path, kind: kind, members: export.members, bytes: export.bytes), to: 2) }
    }
}

/// `dump --json`'s summary (on standard error: standard output carries the data).
struct DumpJSON: Encodable {
    let snapshot_id: String, path: String, kind: String, members: UInt64?, bytes: UInt64
}
