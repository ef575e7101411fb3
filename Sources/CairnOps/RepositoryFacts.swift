/// What `status` and `report` read from one repository of the plan.
public struct RepositoryFacts: Sendable {
    public var name: String
    /// Every snapshot (backups and ops records), or nil when the repository could not be read.
    public var snapshots: [OpsSnapshot]?
    /// Bytes of packs in the store.
    public var storedBytes: UInt64
    /// Plaintext bytes of unique chunks.
    public var uniqueBytes: UInt64
    /// Sealed bytes of those chunks as stored (for the compression ratio).
    public var storedBlobBytes: UInt64 = 0
    /// Why the repository could not be read.
    public var error: String?
    /// Protection against deletion, measured when the plan asks for it or the repository has a lock.
    public var protection: ProtectionFacts?

    public init(name: String, snapshots: [OpsSnapshot]?, storedBytes: UInt64 = 0, uniqueBytes: UInt64 = 0, error: String? = nil) {
        self.name = name; self.snapshots = snapshots; self.storedBytes = storedBytes; self.uniqueBytes = uniqueBytes; self.error = error
    }

    /// Dedup and compression ratios, as `cairn stats` computes them (every snapshot's logical bytes count).
    public var ratios: StorageRatios {
        StorageRatios(logicalBytes: StorageRatios.total((snapshots ?? []).map(\.logicalBytes)),
                      uniqueBytes: uniqueBytes, storedBlobBytes: storedBlobBytes)
    }
}
