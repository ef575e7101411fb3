import CairnCrypto
import CairnFormat
import XCTest

final class CryptoTests: XCTestCase {
    func testSHA256KnownAnswers() {
        XCTAssertEqual(Hex.encode(SHA256.hash(Array("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Hex.encode(SHA256.hash([UInt8]())), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var h = SHA256Hasher()
        h.update(Array("ab".utf8)); h.update(Array("c".utf8))
        let digest = h.finalize()
        XCTAssertEqual(Hex.encode(digest), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testHMACRFC4231Case2() {
        let mac = HMACSHA256.mac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        XCTAssertEqual(Hex.encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    func testScryptRFC7914() throws {
        let out = try Scrypt.derive(passphrase: Array("password".utf8), salt: Array("NaCl".utf8),
                                    parameters: ScryptParameters(logN: 10, r: 8, p: 16), length: 64)
        XCTAssertEqual(Hex.encode(out), "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
    }

    func testAESGCMRoundTripAndTamperDetection() throws {
        let key = try SecureRandom.bytes(32)
        for size in [0, 1, 15, 16, 17, 4096, 100_000] {
            let plain = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let aad = Array("context".utf8)
            let sealed = try AESGCM.seal(plain, key: key, aad: aad)
            XCTAssertEqual(sealed.count, size + SealFraming.overhead)
            XCTAssertEqual(try AESGCM.open(sealed, key: key, aad: aad), plain)
            // Every byte position matters: nonce, ciphertext and tag.
            for pos in Set([0, 11, 12, sealed.count / 2, sealed.count - 1]) {
                var bad = sealed; bad[pos] ^= 0x01
                XCTAssertThrowsError(try AESGCM.open(bad, key: key, aad: aad)) { XCTAssertEqual($0 as? CryptoError, .authenticationFailed) }
            }
            XCTAssertThrowsError(try AESGCM.open(sealed, key: key, aad: Array("other".utf8)))
            XCTAssertThrowsError(try AESGCM.open(sealed, key: try SecureRandom.bytes(32), aad: aad))
        }
        XCTAssertThrowsError(try AESGCM.open([1, 2, 3], key: key, aad: [UInt8]()))
    }

    func testRandomNoncesDiffer() throws {
        let key = try SecureRandom.bytes(32)
        let a = try AESGCM.seal([1, 2, 3], key: key, aad: [UInt8]())
        let b = try AESGCM.seal([1, 2, 3], key: key, aad: [UInt8]())
        XCTAssertNotEqual(Array(a.prefix(12)), Array(b.prefix(12)))
    }
}
