import CairnFormat
import CairnIndex

/// What every reader of a delta blob requires of its base before reading it (format-spec §8): an
/// index names the base, and stores it whole (chains are one level deep, so a chunk costs at most
/// two blob reads). `Repository.readBlob` (and `deltaBaseLocation`, which the copy uses) and the restore's
/// batch reads check through this one place, with the same errors.
package enum DeltaBaseRule {
    /// `baseLocation` (where the index says `base` is, nil when it names none) when `base` may be
    /// used for the delta blob `blob` stored in `pack`; else the damage, named on `blob`.
    /// - Parameter index: which index was asked, for the message ("in the store", "of the source").
    package static func usable(_ base: ChunkID, at baseLocation: BlobLocation?, forDelta blob: ChunkID, in pack: PackID,
                       index: String = "in the store") throws -> BlobLocation {
        guard let baseLocation else {
            throw CairnError.damagedBlob(blob: blob.hex, pack: pack.hex, reason: "its delta base \(base.hex) is named by no index object \(index)")
        }
        guard baseLocation.base == nil else {
            throw CairnError.damagedBlob(blob: blob.hex, pack: pack.hex, reason: "its delta base \(base.short) is itself a delta")
        }
        return baseLocation
    }
}
