import CairnCrypto
import CairnFormat
import CairnStorage

extension Repository {
    /// Check first, before a command that must delete to finish what it
    /// starts (`key passwd`, `key remove`, `key rotate`, `migrate`, `repair`,
    /// `index rebuild`): asks the store whether these credentials may delete
    /// in `namespace` by deleting an object that does not exist (S3 answers
    /// AccessDenied before it looks; on a versioned bucket it leaves a delete
    /// marker under a name nothing reads). Refused, the command stops before
    /// it has changed anything, instead of half-way (Docs/immutability.md:
    /// append-only credentials on a backup host).
    /// Only on S3 (stores with versioning): append-only credentials are an S3 policy, and a local
    /// store's permissions show at the first write.
    public func checkMayDelete(_ namespace: ObjectNamespace, before operation: String) async throws {
        guard store.objectLock != nil else { return }
        let probe = ObjectKey(namespace, Self.deleteProbePrefix + Hex.encode(try SecureRandom.bytes(8)))
        do {
            try await RetryPolicy().run { try await store.delete(probe) }
        } catch {
            throw CairnError.invalidArgument("\(operation) must delete objects, and \(store.location) refused a delete in \(namespace.rawValue)/ "
                + "(\(describe(error))); nothing was changed: run it where the maintenance credentials are")
        }
    }

    /// The name prefix of the never-written objects `checkMayDelete` deletes.
    static let deleteProbePrefix = "delete-check-"
}
