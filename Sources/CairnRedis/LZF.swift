/// LZF decompression as Redis's loader applies it to compressed RDB strings:
/// a literal run (control byte < 32: 1-32 bytes follow) or a back-reference
/// (length in the top 3 bits, 7 meaning "plus the next byte"; distance in the
/// low 5 bits and the next byte, at most 8 KiB back). Redis refuses the string
/// unless the output is exactly the stated length.
enum LZF {
    /// Follows the control bytes of one compressed string, feeding `literal`
    /// with each literal run's length (the caller consumes those bytes) and
    /// returning the decompressed length. `next` supplies control bytes.
    ///
    /// Shared by the streaming check (bytes pulled from the RDB) and `decompress`.
    static func walk(compressed: UInt64, stated: UInt64, next: () throws -> UInt8,
                     literal: (_ count: Int, _ outputOffset: UInt64) throws -> Void,
                     reference: (_ distance: Int, _ length: Int, _ outputOffset: UInt64) throws -> Void) throws -> UInt64 {
        var consumed: UInt64 = 0, out: UInt64 = 0
        while consumed < compressed {
            let ctrl = try next(); consumed += 1
            if ctrl < 32 {
                let run = UInt64(ctrl) + 1
                guard out + run <= stated else { throw PayloadError("LZF data expands past its stated length of \(stated) bytes") }
                guard consumed + run <= compressed else { throw PayloadError("LZF literal run reaches past the end of the compressed data") }
                try literal(Int(run), out)
                consumed += run; out += run
            } else {
                var length = UInt64(ctrl >> 5)
                var distance = (UInt64(ctrl & 0x1F) << 8) + 1
                guard consumed < compressed else { throw PayloadError("LZF back-reference cut off by the end of the compressed data") }
                if length == 7 {
                    length += UInt64(try next()); consumed += 1
                    guard consumed < compressed else { throw PayloadError("LZF back-reference cut off by the end of the compressed data") }
                }
                distance += UInt64(try next()); consumed += 1
                guard out + length + 2 <= stated else { throw PayloadError("LZF data expands past its stated length of \(stated) bytes") }
                guard distance <= out else { throw PayloadError("LZF back-reference points \(distance) bytes back, before the start of the output (at \(out))") }
                try reference(Int(distance), Int(length) + 2, out)
                out += length + 2
            }
        }
        guard out == stated else { throw PayloadError("LZF data decompresses to \(out) bytes, less than its stated length of \(stated)") }
        return out
    }

    /// Decompresses `input` into exactly `stated` bytes (the caller bounds `stated`).
    static func decompress(_ input: [UInt8], stated: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: stated)
        var position = 0
        _ = try walk(compressed: UInt64(input.count), stated: UInt64(stated), next: {
            let b = input[position]; position += 1; return b
        }, literal: { count, at in
            output.replaceSubrange(Int(at)..<Int(at) + count, with: input[position..<position + count])
            position += count
        }, reference: { distance, length, at in
            let start = Int(at)
            for i in 0..<length { output[start + i] = output[start - distance + i] }   // may overlap: byte by byte
        })
        return output
    }
}
