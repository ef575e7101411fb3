import Foundation
import XCTest

/// `stats` compares content with content (issue 17, defect 6): trees and chunk
/// lists are shown apart, so one backup of incompressible files dedups 1.00.
final class StatsTests: CLITestCase {
    func testMetadataIsNotCountedAsUniqueData() throws {
        try initRepo()
        let src = try makeDir("src")
        var total = 0
        for i in 0..<40 {
            let data = TestData.random(3_000 + i * 997, seed: UInt64(900 + i))
            total += data.count
            try write(data, to: src.appendingPathComponent("d\(i % 5)/f\(i)"))
        }
        _ = try backup([src.path])
        let s = try ok(["stats", "--json"]).jsonObject()
        XCTAssertEqual(try s.int("logical_bytes"), total)
        XCTAssertEqual(try s.int("unique_bytes"), total, "unique bytes are the content, nothing else: \(s)")
        XCTAssertGreaterThan(try s.int("metadata_bytes"), 0, "\(s)")
        XCTAssertEqual(try s.double("dedup_ratio"), 1.0, accuracy: 0.0001, "\(s)")
        let text = try ok(["stats"]).out
        XCTAssertTrue(text.contains("dedup ratio:        1.00"), text)
        XCTAssertTrue(text.contains("metadata bytes:"), text)
        // The same files again: twice the logical bytes, the same unique bytes.
        _ = try backup([src.path, "--force-read"])
        XCTAssertEqual(try ok(["stats", "--json"]).jsonObject().double("dedup_ratio"), 2.0, accuracy: 0.0001)
    }
}
