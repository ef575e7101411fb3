import CairnTar
import Foundation
import XCTest

/// Inputs the `tar` fuzz target (Fuzz/) found; their bytes are in Fuzz/Regressions/.
/// Each must end in a clean error, never a crash.
final class FuzzRegressionTests: XCTestCase {
    /// Fuzz/Regressions/tar/pax-length-overflow: a pax record whose length is
    /// Int.max, after a first record, overflowed `offset + length` (a trap).
    func testPaxRecordLengthNearIntMaxIsRefused() {
        func header(_ name: String, _ type: Character, size: Int) -> [UInt8] {
            var h = [UInt8](repeating: 0, count: 512)
            func put(_ s: String, at o: Int) { for (k, b) in s.utf8.enumerated() { h[o + k] = b } }
            put(name, at: 0); put("0000644", at: 100); put("0000000", at: 108); put("0000000", at: 116)
            put(String(format: "%011o", size), at: 124); put("14000000000", at: 136)
            h[156] = type.asciiValue!
            put("ustar", at: 257); put("00", at: 263)
            put("        ", at: 148)
            put(String(format: "%06o", h.reduce(0) { $0 + Int($1) }) + "\0 ", at: 148)
            return h
        }
        let records = Array("6 a=b\n9223372036854775807 x=y\n".utf8)
        let bytes = header("pax", "x", size: records.count) + records + [UInt8](repeating: 0, count: 512 - records.count)
            + header("f", "0", size: 0) + [UInt8](repeating: 0, count: 1024)
        var reader = TarStreamReader()
        XCTAssertThrowsError(try reader.feed(bytes[...]) { _ in }) { e in
            guard case TarError.badField(let name, _) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(name, "pax record")
        }
    }
}
