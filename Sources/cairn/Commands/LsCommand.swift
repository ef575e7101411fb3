import ArgumentParser
import CairnEngine
import CairnFormat
import Foundation

struct LsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List the files in a snapshot.",
        discussion: """
            --json prints JSON lines: one object per entry (path, type, mode, owner, size, mtime in RFC 3339 UTC). \
            latest is the newest snapshot that --name/--host/--tag/--path select.

            Examples:
              cairn ls latest --name node-config
              cairn ls 4f2a91c3 --json | jq -r 'select(.type=="file") | .path'
            """)

    @OptionGroup var options: RepositoryOptions
    @OptionGroup var lockOptions: ReadLockOptions

    @OptionGroup var choice: SnapshotChoice

    func run() async throws {
        let repo = try await options.openForReading(operation: "ls", lockOptions: lockOptions)
        let record = try choice.resolve(in: repo)
        try await SnapshotBrowser(repo: repo).walk(record) { path, node in
            if options.json {
                Terminal.json(NodeJSON(path: path, node: node))
            } else {
                // Names, link targets and owner names escaped (`EscapedText`): one line per entry, distinct names distinct.
                let kind = Self.typeLetter(node.kind)
                let owner = node.user.isEmpty ? String(node.uid) : EscapedText.escape(node.user)
                let group = node.group.isEmpty ? String(node.gid) : EscapedText.escape(node.group)
                let size = node.kind.isDevice ? "\(node.deviceMajor),\(node.deviceMinor)" : String(node.size)
                var line = "\(kind)\(String(node.mode, radix: 8).leftPadded(4)) \(owner)/\(group) \(size.leftPadded(12)) \(Terminal.rfc3339(node.mtime)) \(EscapedText.escape(path))"
                if node.kind == .symlink { line += " -> \(EscapedText.escape(node.linkTarget))" }
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

/// One entry of `ls --json`. Strings hold the names as they are (JSON escapes
/// control characters); bytes that are not UTF-8 show as U+FFFD there, and
/// the exact bytes are then in `path_raw`/`link_target_raw` (base64), as
/// restic's `linktarget_raw` does.
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
    var path_raw: String? = nil, link_target_raw: String? = nil
    var device_major: UInt32? = nil, device_minor: UInt32? = nil

    init(path: [UInt8], node: Node) {
        self.path = String(decoding: path, as: UTF8.self)
        path_raw = Self.rawIfNotUTF8(path)
        type = Self.typeName(node.kind)
        mode = node.mode; uid = node.uid; gid = node.gid; user = node.user; group = node.group
        size = node.size; mtime = Terminal.rfc3339(node.mtime)
        link_target = node.kind == .symlink ? String(decoding: node.linkTarget, as: UTF8.self) : nil
        if node.kind == .symlink { link_target_raw = Self.rawIfNotUTF8(node.linkTarget) }
        if node.kind.isDevice { device_major = node.deviceMajor; device_minor = node.deviceMinor }
    }

    /// Base64 of `bytes` when they are not valid UTF-8 (a string cannot hold them), else nil.
    static func rawIfNotUTF8(_ bytes: [UInt8]) -> String? {
        String(decoding: bytes, as: UTF8.self).utf8.elementsEqual(bytes) ? nil : Data(bytes).base64EncodedString()
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
