import CairnCrypto
import CairnFormat

/// Turns sealed blobs into a finished pack (format-spec §9): blobs, then the
/// header sealed with the metadata key, then its length; the pack is named
/// by the SHA-256 of all of it.
enum PackAssembler {
    static func assemble(type: PackType, blobs: consuming [UInt8], entries: [BlobEntry], keys: MasterKeys) throws -> (id: ChunkID, bytes: [UInt8]) {
        let header = PackHeader(type: type, entries: entries).encoded()
        let sealedHeader = try AESGCM.seal(header, key: keys.metadata, aad: KeyLabels.packHeaderAAD)
        var pack = blobs
        pack.reserveCapacity(pack.count + sealedHeader.count + 4)
        pack += sealedHeader
        let n = UInt32(sealedHeader.count)
        pack += [UInt8(n & 0xff), UInt8(n >> 8 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 24)]
        return (SHA256.id(pack), pack)
    }
}
