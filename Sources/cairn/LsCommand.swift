import ArgumentParser
import CairnEngine
import CairnFormat

struct LsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the files in a snapshot.")

    @OptionGroup var options: RepositoryOptions
    @OptionGroup var lockOptions: ReadLockOptions

    @Argument(help: "Snapshot id, unique id prefix, or latest.")
    var snapshot: String

    @Option(help: "With latest: the snapshot name to pick from.")
    var name: String?

    func run() async throws {
        let repo = try await options.openForReading(operation: "ls", lockOptions: lockOptions)
        let record = try repo.resolveSnapshot(snapshot, name: name)
        try await SnapshotBrowser(repo: repo).walk(record) { path, node in
            if options.json {
                Terminal.json(NodeJSON(path: path, node: node))
            } else {
                let kind = Self.typeLetter(node.kind)
                var line = "\(kind)\(String(node.mode, radix: 8).leftPadded(4)) \(node.user.isEmpty ? String(node.uid) : node.user)/\(node.group.isEmpty ? String(node.gid) : node.group) \(String(node.size).leftPadded(12)) \(Terminal.rfc3339(node.mtime)) \(path)"
                if node.kind == .symlink { line += " -> \(String(decoding: node.linkTarget, as: UTF8.self))" }
                Terminal.out(line)
            }
        }
    }
}

extension LsCommand {
    /// The type letter `ls -l` shows.
    static func typeLetter(_ kind: NodeKind) -> String {
        switch kind {
        case .file: return "-"
        case .directory: return "d"
        case .symlink: return "l"
        case .fifo: return "p"
        case .characterDevice: return "c"
        case .blockDevice: return "b"
        case .socket: return "s"
        }
    }
}

struct NodeJSON: Encodable {
    /// restic's node type names.
    static func typeName(_ kind: NodeKind) -> String {
        switch kind {
        case .file: return "file"
        case .directory: return "dir"
        case .symlink: return "symlink"
        case .fifo: return "fifo"
        case .characterDevice: return "chardev"
        case .blockDevice: return "dev"
        case .socket: return "socket"
        }
    }

    let path: String, type: String, mode: UInt32, uid: UInt32, gid: UInt32, user: String, group: String
    let size: UInt64, mtime: String, link_target: String?

    init(path: String, node: Node) {
        self.path = path
        type = Self.typeName(node.kind)
        mode = node.mode; uid = node.uid; gid = node.gid; user = node.user; group = node.group
        size = node.size; mtime = Terminal.rfc3339(node.mtime)
        link_target = node.kind == .symlink ? String(decoding: node.linkTarget, as: UTF8.self) : nil
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
