import CairnCrypto
import CairnFormat
import XCTest

/// The allocation-free primitives of the restore path give the same answers
/// as the general ones.
final class RestoreCryptoTests: XCTestCase {
    func testPrecomputedHMACMatchesOneShot() throws {
        XCTAssertEqual(Hex.encode(HMACSHA256Key(key: Array("Jefe".utf8)).mac(Array("what do ya want for nothing?".utf8))),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // Short, block-sized and over-long keys (hashed first), messages of every length class.
        for keyLength in [0, 1, 32, 63, 64, 65, 131] {
            let key = try SecureRandom.bytes(keyLength)
            let keyed = HMACSHA256Key(key: key)
            for messageLength in [0, 1, 33, 55, 56, 64, 200] {
                let message = try SecureRandom.bytes(messageLength)
                XCTAssertEqual(keyed.mac(message), HMACSHA256.mac(key: key, message: message), "key \(keyLength), message \(messageLength)")
            }
        }
    }

    func testChunkIDRawBytesRoundTrip() throws {
        let bytes = try SecureRandom.bytes(32)
        let id = try XCTUnwrap(ChunkID(bytes: bytes))
        XCTAssertEqual(bytes.withUnsafeBytes { ChunkID(raw: $0) }, id)
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBytes { id.copyBytes(to: $0.baseAddress!) }
        XCTAssertEqual(out, bytes)
        XCTAssertEqual(SHA256.id(Array("abc".utf8)).hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// Pooled contexts: a failed authentication must not leak state into the next opening.
    func testDecryptionAfterAFailureAndInPieces() throws {
        let key = try SecureRandom.bytes(32)
        let plain = try SecureRandom.bytes(10_000)
        let aad = Array("context".utf8)
        let sealed = try AESGCM.seal(plain, key: key, aad: aad)
        var bad = sealed; bad[5000] ^= 1
        for _ in 0..<20 {
            XCTAssertThrowsError(try AESGCM.open(bad, key: key, aad: aad)) { XCTAssertEqual($0 as? CryptoError, .authenticationFailed) }
            XCTAssertEqual(try AESGCM.open(sealed, key: key, aad: aad), plain)
        }
        // One byte, then the rest (as a blob's encoding byte is read), into separate buffers.
        let n = plain.count
        var head: UInt8 = 0
        var rest = [UInt8](repeating: 0, count: n - 1)
        try sealed.withUnsafeBytes { s in
            try key.withUnsafeBytes { k in
                try aad.withUnsafeBytes { a in
                    try AESGCM.withDecryptor(key: k, nonce: UnsafeRawBufferPointer(rebasing: s[0..<12]), aad: a) { d in
                        try withUnsafeMutableBytes(of: &head) { try d.update(UnsafeRawBufferPointer(rebasing: s[12..<13]), into: $0.baseAddress) }
                        try rest.withUnsafeMutableBytes { try d.update(UnsafeRawBufferPointer(rebasing: s[13..<(12 + n)]), into: $0.baseAddress) }
                        try d.verify(tag: UnsafeRawBufferPointer(rebasing: s[(12 + n)...]))
                    }
                }
            }
        }
        XCTAssertEqual([head] + rest, plain)
    }
}
