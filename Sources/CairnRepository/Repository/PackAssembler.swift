import CairnCrypto
import CairnFormat

/// Finishes a pack (format-spec §9): after the blobs, the header sealed with
/// the metadata key, then its length (`PackTrailer`); `StagedPack` names the
/// pack by the SHA-256 of all of it.
enum PackAssembler {
    /// What follows the blobs: the header sealed with the metadata key, then
    /// its length (u32le).
    static func trailer(type: PackType, entries: [BlobEntry], keys: Keyring) throws -> [UInt8] {
        let header = PackHeader(type: type, entries: entries).encoded()
        return PackTrailer.encode(sealedHeader: try AESGCM.seal(header, key: keys.metadata, aad: KeyLabels.packHeaderAAD))
    }
}
