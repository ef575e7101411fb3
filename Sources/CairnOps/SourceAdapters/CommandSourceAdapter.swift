import CairnEngine
import CairnPlan
import Foundation

/// A command's standard output: `cairn backup --stdin-from-command`; the drill restores the
/// stream whole (every chunk verified) and checks its length against the snapshot's.
struct CommandSourceAdapter: SourceAdapter {
    var declaration: SourceDeclaration { SourceDeclaration(kind: .command, keys: [.init("command", .strings, required: true)]) }

    func backup(_ s: PlanSource, waitLock: String) -> SourceBackup {
        .command(["backup", "--stdin-from-command", "--name", s.snapshotName] + s.tags.flatMap { ["--tag", $0] }
                 + ["--wait-lock", waitLock, "--json", "--"] + s.command)
    }

    func drill(_ d: DrillRequest) async throws -> String {
        let out = d.scratch + "/stream", snap = d.snapshot, env = d.environment, repo = d.repository
        try d.timer.run("restore") {
            try env.cairnChecked(["restore", snap.id, "--stdout"], repo, stdoutPath: out, "cairn restore --stdout")
        }
        return try d.timer.run("compare") {
            let size = (try FileManager.default.attributesOfItem(atPath: out)[.size] as? NSNumber)?.uint64Value ?? 0
            guard size == snap.logicalBytes else { throw DrillFailure("restored \(size) bytes, the snapshot recorded \(snap.logicalBytes)") }
            return "\(ProgressText.bytes(size)) restored, every chunk verified"
        }
    }
}

extension SourceKind {
    /// `cairn backup --stdin-from-command`: the standard output of a command.
    public static let command: SourceKind = "command"
}

extension PlanSource {
    /// command: the argv whose standard output is the snapshot.
    public var command: [String] { settings.strings("command") }
}
