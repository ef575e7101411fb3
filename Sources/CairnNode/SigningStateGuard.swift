import CairnEngine
import CairnRepository
import CairnFormat
import Foundation

/// Validator safety for `cairn restore`: refuses to write a snapshot's
/// `priv_validator_state.json` over an existing one that records a higher
/// height/round/step (the restored validator could sign those heights again
/// and be slashed for double-signing), unless `--allow-signing-state-rollback`.
/// Restoring validator or node keys gives a warning. (Node data's restore rule, applied by `cairn restore`.)
public enum SigningStateGuard {
    /// Checks before anything is written; returns warnings to print.
    public static func check(repo: Repository, record: SnapshotRecord, target: String, includes: [String], allowRollback: Bool) async throws -> [String] {
        var states: [String] = [], keys: [String] = []
        do {
            try await SnapshotBrowser(repo: repo).walk(record) { rawPath, node in
                let path = String(decoding: rawPath, as: UTF8.self)
                guard node.kind == .file, selected(path, includes) else { return }
                if node.displayName == SigningState.fileName { states.append(path) }
                if SigningState.keyFileNames.contains(node.displayName) { keys.append(path) }
            }
        } catch {
            // A damaged tree: fail as the restore itself would, naming the snapshot.
            throw CairnError.restoreFailed(snapshot: String(record.id.prefix(8)), path: "/", reason: describe(error))
        }
        var warnings = keys.map {
            "restoring \($0): make sure no other instance of this validator or node runs with the same key (two signers with one key double-sign)"
        }
        for path in states {
            let existingPath = target + path
            guard let existingBytes = FileManager.default.contents(atPath: existingPath) else { continue }
            let snapshotBytes = try await snapshotFile(repo: repo, record: record, path: path)
            let snapshotState: SigningState
            do { snapshotState = try SigningState.parse(snapshotBytes) } catch {
                throw CairnError.invalidArgument("\(path) in snapshot \(record.id.prefix(8)) \(error); not restoring over \(existingPath)")
            }
            guard let existing = try? SigningState.parse([UInt8](existingBytes)) else {
                if allowRollback { warnings.append("\(existingPath) is unreadable; replacing it as --allow-signing-state-rollback asks"); continue }
                throw CairnError.invalidArgument("\(existingPath) exists but is not a readable signing state; refusing to replace it (move it aside, or pass --allow-signing-state-rollback)")
            }
            if snapshotState < existing {
                let message = "restoring \(path) would roll the validator's signing state back from \(existing) to \(snapshotState): the validator could sign those heights again and be slashed for double-signing"
                guard allowRollback else {
                    throw CairnError.invalidArgument("\(message). Keep the newer file (restore with --include for other paths), or pass --allow-signing-state-rollback if this validator is provably not signing anywhere")
                }
                warnings.append("\(message) (allowed by --allow-signing-state-rollback)")
            }
        }
        return warnings
    }

    /// Whether a snapshot path ("/data/x") is under one of the include paths (none: everything).
    private static func selected(_ path: String, _ includes: [String]) -> Bool {
        if includes.isEmpty { return true }
        let comps = path.split(separator: "/")
        return includes.contains { inc in
            let ic = inc.split(separator: "/")
            return comps.count >= ic.count && Array(comps.prefix(ic.count)) == ic
        }
    }

    /// One file of the snapshot, restored (and verified) into a private temp directory.
    private static func snapshotFile(repo: Repository, record: SnapshotRecord, path: String) async throws -> [UInt8] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-signing-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let rel = String(path.dropFirst())
        _ = try await Restorer(repo: repo, snapshot: record).restore(to: dir.path, include: [rel])
        guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent(rel).path) else {
            throw CairnError.other("cannot read \(path) of snapshot \(record.id.prefix(8)) back for the signing-state check")
        }
        return [UInt8](data)
    }
}
