import CairnCompression
import CairnCrypto
import CairnEngine
import CairnRepository
import CairnFormat

/// A blob's plaintext (encoding byte ‖ payload: raw, zstd, or base id ‖ zstd
/// delta frame), sealed by the harness and read back through `BlobCodec.open`,
/// the path every restore, scrub and copy takes.
///
/// Layout: type (byte), raw length from the index (u32, capped at 16 MiB, the
/// largest chunk a repository's profiles allow), length of the delta base's
/// plaintext (u16), the base's plaintext, then the encoded blob plaintext.
enum BlobTarget {
    static let maxChunk: UInt32 = 16 << 20

    static let target = FuzzTarget(
        name: "blob", maxLength: 64 << 10,
        summary: "BlobCodec.open: raw, zstd and delta blob plaintexts",
        seeds: seeds,
        run: run)

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        let types = BlobType.allCases
        let type = types[Int(input.byte()) % types.count]
        let rawLength = input.u32() % (maxChunk + 1)
        let basePlaintext = input.take(Int(input.u16()))
        let encoded = input.remaining()
        let isDelta = encoded.first == BlobEncoding.zstdDelta.rawValue
        let named = isDelta && encoded.count > ChunkID.byteCount ? ChunkID(bytes: encoded[1...ChunkID.byteCount]) : nil
        let id = SHA256.id(encoded)
        let codec = BlobCodec(keys: FuzzKeys.keys, level: 0)
        guard let sealed = try? codec.sealEncoded(encoded, type: type, id: id, base: named) else { return }
        let base = named.map { (id: $0, plaintext: basePlaintext) }
        if let chunk = try? codec.open(sealed, type: type, id: id, rawLength: rawLength, base: base) {
            require(chunk.count == Int(rawLength), "blob opened to \(chunk.count) bytes, index says \(rawLength)")
        }
        // The same bytes named by the hash of what they decode to get past the last check.
        if let (chunk, _) = try? decodeUnchecked(encoded, basePlaintext: basePlaintext, rawLength: rawLength) {
            let trueID = SHA256.id(chunk)
            guard let resealed = try? codec.sealEncoded(encoded, type: type, id: trueID, base: named) else { return }
            let opened = try? codec.openKeepingEncoding(resealed, type: type, id: trueID, rawLength: rawLength, base: base)
            require(opened?.chunk == chunk && opened?.encoded == encoded, "an honest blob did not open to its content")
        }
    }

    /// What the blob decodes to, without BlobCodec (an oracle for the second open).
    static func decodeUnchecked(_ encoded: [UInt8], basePlaintext: [UInt8], rawLength: UInt32) throws -> ([UInt8], BlobEncoding)? {
        guard let first = encoded.first, let encoding = BlobEncoding(rawValue: first) else { return nil }
        let payload = Array(encoded.dropFirst())
        let chunk: [UInt8]
        switch encoding {
        case .raw: chunk = payload
        case .zstd: chunk = try Zstd.shared.decompress(payload, limit: Int(rawLength))
        case .zstdDelta:
            guard payload.count >= ChunkID.byteCount else { return nil }
            chunk = try payload.withUnsafeBytes { p in
                try basePlaintext.withUnsafeBytes { b in
                    try Zstd.shared.decompress(UnsafeRawBufferPointer(rebasing: p[ChunkID.byteCount...]), limit: Int(rawLength), dictionary: b)
                }
            }
        }
        guard chunk.count == Int(rawLength) else { return nil }
        return (chunk, encoding)
    }

    static func seeds() -> [[UInt8]] {
        let text = Array(String(repeating: "The quick brown fox jumps over the lazy dog\n", count: 40).utf8)
        var changed = text
        changed[100] = 0x21
        var out: [[UInt8]] = []
        func seed(_ type: UInt8, _ raw: Int, base: [UInt8], _ encoded: [UInt8]) -> [UInt8] {
            [type] + le32(UInt32(raw)) + le16(UInt16(base.count)) + base + encoded
        }
        out.append(seed(0, text.count, base: [], [BlobEncoding.raw.rawValue] + text))
        if let z = try? text.withUnsafeBytes({ try Zstd.shared.compress($0, level: 3) }) {
            out.append(seed(0, text.count, base: [], [BlobEncoding.zstd.rawValue] + z))
            out.append(seed(1, text.count, base: [], [BlobEncoding.zstd.rawValue] + z))
        }
        let baseID = SHA256.id(text)
        if let d = try? changed.withUnsafeBytes({ c in try text.withUnsafeBytes { b in try Zstd.shared.compress(c, level: 3, dictionary: b) } }) {
            out.append(seed(0, changed.count, base: text, [BlobEncoding.zstdDelta.rawValue] + baseID.bytes + d))
        }
        return out
    }
}
