import CairnCrypto
import CairnFormat

/// Turns sealed blobs into a finished pack (format-spec §9): blobs, then the
/// header sealed with the metadata key, then its length; the pack is named
/// by the SHA-256 of all of it.
enum PackAssembler {
    static func assemble(type: PackType, blobs: consuming [UInt8], entries: [BlobEntry], keys: Keyring) throws -> (id: ChunkID, bytes: [UInt8]) {
        let trailer = try trailer(type: type, entries: entries, keys: keys)
        var pack = blobs
        pack += trailer
        return (SHA256.id(pack), pack)
    }

    /// What follows the blobs: the header sealed with the metadata key, then
    /// its length (u32le).
    static func trailer(type: PackType, entries: [BlobEntry], keys: Keyring) throws -> [UInt8] {
        let header = PackHeader(type: type, entries: entries).encoded()
        var out = try AESGCM.seal(header, key: keys.metadata, aad: KeyLabels.packHeaderAAD)
        let n = UInt32(out.count)
        out += [UInt8(n & 0xff), UInt8(n >> 8 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 24)]
        return out
    }
}
