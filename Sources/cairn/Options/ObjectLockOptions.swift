import ArgumentParser
import CairnStorage

/// `--object-lock MODE --lock-days N` of `init` and of `copy` when it creates the target (Docs/immutability.md).
struct ObjectLockOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Write every object with S3 Object Lock in this mode: governance or compliance (the bucket needs Object Lock enabled; a new bucket is created with it).", valueName: "mode"))
    var objectLock: String?

    @Option(help: ArgumentHelp("Days each object stays locked after it is written (with --object-lock); 'cairn lock extend' keeps what is still used locked.", valueName: "days"))
    var lockDays: Int?

    /// The policy asked for; nil without --object-lock.
    func policy() throws -> ObjectLockPolicy? {
        guard let name = objectLock else {
            if lockDays != nil { throw ValidationError("--lock-days needs --object-lock governance|compliance") }
            return nil
        }
        guard let mode = ObjectLockMode(name: name) else {
            throw ValidationError("--object-lock must be governance or compliance, not \(name.debugDescription)")
        }
        guard let days = lockDays else { throw ValidationError("--object-lock needs --lock-days N (how long each object stays locked)") }
        guard (1...ObjectLockPolicy.maximumDays).contains(days) else {
            throw ValidationError("--lock-days must be 1...\(ObjectLockPolicy.maximumDays)")
        }
        return ObjectLockPolicy(mode: mode, days: days)
    }
}
