import ArgumentParser
import CairnFormat

/// `--name` of the commands that make snapshots: one rule (`Snapshot.isValidName`) and one message.
enum SnapshotNameArgument {
    /// Throws a usage error when `name` cannot name a snapshot.
    static func validate(_ name: String) throws {
        guard Snapshot.isValidName(name) else {
            throw ValidationError("--name must be non-empty, not '.' or '..', and contain no '/'")
        }
    }
}
