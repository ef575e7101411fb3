import Foundation
import XCTest

/// Inputs the `index-delta` fuzz target (Fuzz/) found, forged into a real
/// repository with `Forger` (someone holding the key): every command must go
/// on working, never trap.
final class FuzzRegressionTests: CLITestCase {
    /// Fuzz/Regressions/index-delta/pack-size-2^63, blob-offset-2^63: an index object
    /// naming a pack of 2^63 bytes, or a blob at offset 2^63, trapped converting to the
    /// cache's signed integers, in the sync every command starts with: one such object
    /// stopped every command on every machine. The decoder refuses it now; the sync
    /// skips it with a warning and the honest snapshot restores.
    func testIndexObjectWithOutOfRangeSizeOrOffsetIsSkipped() throws {
        try initRepo()
        let content = Data((0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let id = try XCTUnwrap(backup(["--stdin", "--name", "db"], stdin: .data(content))["snapshot_id"] as? String)
        let forger = try Forger(repository: repo, passphrase: password)
        let v = Forger.varint
        let entry = [0] + [UInt8](repeating: 0xbb, count: 32)
        for (size, offset) in [(UInt64(1) << 63, UInt64(0)), (UInt64(4096), UInt64(1) << 63)] {
            let delta = [1] + v(0) + v(1) + [UInt8](repeating: 0xaa, count: 32) + [0] + v(size) + v(1) + entry + v(offset) + v(100) + v(90)
            let sealed = try forger.sealObject("CRNI", delta)
            try forger.write(sealed, to: "index/\(Forger.hex(Forger.sha256(sealed)))")
        }
        let r = try ok(["snapshots", "--json"])
        XCTAssertTrue(r.err.contains("out of range"), r.err)
        XCTAssertEqual(try restoreStdout(id), content)
    }
}
