import CairnFormat
import CairnIndex

extension Repository {
    /// Opens the blob `read` from `bytes` read out of its pack, where it
    /// starts at `at`: authenticated, decompressed (applied to `base` when it
    /// is a delta) and hash-checked; damage is thrown naming blob and pack.
    /// Every read of a blob (single, batch, restore plan) opens it here.
    package func openBlob(_ read: BlobRead, _ type: BlobType, in bytes: [UInt8], at: Int, base: (id: ChunkID, plaintext: [UInt8])?) throws -> [UInt8] {
        let codec = self.codec
        return try openBlob(read, in: bytes, at: at) {
            try codec.open($0, type: type, id: read.id, rawLength: read.location.rawLength, base: base)
        }
    }

    /// `open` applied to the blob's sealed bytes inside `bytes`: bounds
    /// checked ("pack is truncated"), the codec's damage named on blob and pack.
    package func openBlob<T>(_ read: BlobRead, in bytes: [UInt8], at: Int, _ open: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        let loc = read.location
        guard at >= 0, at + Int(loc.length) <= bytes.count else {
            throw CairnError.damagedBlob(blob: read.id.hex, pack: loc.pack.hex, reason: "pack is truncated")
        }
        do {
            return try bytes.withUnsafeBytes { try open(UnsafeRawBufferPointer(rebasing: $0[at..<(at + Int(loc.length))])) }
        } catch let d as BlobDamage {
            throw CairnError.damagedBlob(blob: read.id.hex, pack: loc.pack.hex, reason: d.reason)
        }
    }
}
