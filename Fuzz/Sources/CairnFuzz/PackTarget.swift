import CairnCrypto
import CairnFormat

/// A pack's trailer and header (format-spec §9), read the way
/// `Repository.readPackHeader` reads them.
///
/// First byte even: the rest is a whole pack from the store (no key: the
/// trailer's length checks, then authentication). Odd: the next four bytes are
/// the length of the blob area, the rest is a header plaintext that the harness
/// seals with the metadata key (someone holding the key).
enum PackTarget {
    static let target = FuzzTarget(
        name: "pack", maxLength: 16 << 10,
        summary: "pack trailer (sealed header length) and PackHeader.decode",
        seeds: {
            let id = ChunkID(bytes: [UInt8](repeating: 0xab, count: 32))!
            let base = ChunkID(bytes: [UInt8](repeating: 0xcd, count: 32))!
            let data = PackHeader(type: .data, entries: [
                BlobEntry(type: .data, id: id, offset: 0, length: 100, rawLength: 4096),
                BlobEntry(type: .data, id: base, offset: 100, length: 60, rawLength: 5000, base: id),
            ])
            let meta = PackHeader(type: .metadata, entries: [
                BlobEntry(type: .tree, id: id, offset: 0, length: 300, rawLength: 272),
                BlobEntry(type: .list, id: base, offset: 300, length: 80, rawLength: 65),
            ])
            var seeds: [[UInt8]] = []
            for h in [data, meta, PackHeader(type: .data, entries: [])] {
                let covered = UInt32(h.entries.reduce(0) { $0 + UInt64($1.length) })
                seeds.append([1] + le32(covered) + h.encoded())
                let sealed = FuzzKeys.sealMetadata(h.encoded(), aad: KeyLabels.packHeaderAAD)
                seeds.append([0] + [UInt8](repeating: 0x55, count: Int(covered)) + sealed + le32(UInt32(sealed.count)))
            }
            return seeds
        },
        run: run)

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        if input.byte() & 1 == 0 {
            let pack = input.remaining()
            guard pack.count >= PackTrailer.length else { return }
            let tail = Array(pack.suffix(PackTrailer.length))
            guard let range = try? PackTrailer.sealedHeaderRange(tail: tail, packSize: UInt64(pack.count), what: "pack") else { return }
            require(range.upperBound == UInt64(pack.count - PackTrailer.length), "header range \(range) does not end at the trailer")
            let sealed = Array(pack[Int(range.lowerBound)..<Int(range.upperBound)])
            guard let plain = try? AESGCM.open(sealed, key: FuzzKeys.metadata, aad: KeyLabels.packHeaderAAD) else { return }
            check(plain, dataLength: range.lowerBound)
        } else {
            let dataLength = UInt64(input.u32())
            let plain = input.remaining()
            let sealed = FuzzKeys.sealMetadata(plain, aad: KeyLabels.packHeaderAAD)
            let trailer = sealed + le32(UInt32(sealed.count))
            let packSize = dataLength + UInt64(trailer.count)
            let range: Range<UInt64>
            do {
                range = try PackTrailer.sealedHeaderRange(tail: Array(trailer.suffix(4)), packSize: packSize, what: "pack")
            } catch {
                fatalError("an honest trailer was refused: \(error)")
            }
            require(range.lowerBound == dataLength && range.count == sealed.count, "header range \(range) is not where it was written")
            let opened = try? AESGCM.open(sealed, key: FuzzKeys.metadata, aad: KeyLabels.packHeaderAAD)
            require(opened == plain, "a sealed header did not open to its plaintext")
            check(plain, dataLength: dataLength)
        }
    }

    static func check(_ plain: [UInt8], dataLength: UInt64) {
        _ = try? PackHeader.decode(plain, dataLength: nil)
        guard let header = try? PackHeader.decode(plain, dataLength: dataLength) else { return }
        require(header.encoded() == plain, "pack header does not re-encode to its bytes")
        require(header.entries.reduce(0) { $0 + UInt64($1.length) } == dataLength, "entries do not cover the blob area")
    }
}
