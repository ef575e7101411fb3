import Foundation
import XCTest
@testable import CairnFormat

/// `ChunkerParameters.validate` and the rounding of log2 used to pick masks.
final class ChunkerParametersTests: XCTestCase {
    private func assertRejected(_ p: ChunkerParameters, _ fragment: String, line: UInt = #line) {
        XCTAssertThrowsError(try p.validate(), line: line) { error in
            guard case FormatError.invalid(let what, let reason) = error else { return XCTFail("\(error)", line: line) }
            XCTAssertEqual(what, "chunker parameters", line: line)
            XCTAssert(reason.contains(fragment), "\(reason) does not mention \(fragment)", line: line)
        }
        XCTAssertThrowsError(try FastCDC(p), line: line)
    }

    func testRejections() {
        assertRejected(ChunkerParameters(minimumSize: 64, averageSize: 255, maximumSize: 1024), "average size")
        assertRejected(ChunkerParameters(minimumSize: 64, averageSize: (4 << 20) + 1, maximumSize: 16 << 20), "average size")
        assertRejected(ChunkerParameters(minimumSize: 63, averageSize: 256, maximumSize: 1024), "minimum size")
        assertRejected(ChunkerParameters(minimumSize: (1 << 20) + 1, averageSize: 2 << 20, maximumSize: 4 << 20), "minimum size")
        assertRejected(ChunkerParameters(minimumSize: 64, averageSize: 256, maximumSize: 1023), "maximum size")
        assertRejected(ChunkerParameters(minimumSize: 64, averageSize: 4096, maximumSize: (16 << 20) + 1), "maximum size")
        assertRejected(ChunkerParameters(minimumSize: 4096, averageSize: 2048, maximumSize: 8192), "min <= avg <= max")
        assertRejected(ChunkerParameters(minimumSize: 256, averageSize: 4096, maximumSize: 2048), "min <= avg <= max")
        assertRejected(ChunkerParameters(averageSize: 4096, normalization: 4), "normalization")
        assertRejected(ChunkerParameters(minimumSize: -1, averageSize: 256, maximumSize: 1024), "minimum size")
        assertRejected(ChunkerParameters(minimumSize: 64, averageSize: Int.min, maximumSize: 1024), "average size")
        assertRejected(ChunkerParameters(minimumSize: 64, averageSize: 256, maximumSize: Int.max), "maximum size")
    }

    func testAcceptedExtremes() throws {
        for nc: UInt8 in 0...3 {
            XCTAssertNoThrow(try FastCDC(ChunkerParameters(minimumSize: 64, averageSize: 256, maximumSize: 1024, normalization: nc)))
            XCTAssertNoThrow(try FastCDC(ChunkerParameters(minimumSize: 1 << 20, averageSize: 4 << 20, maximumSize: 16 << 20, normalization: nc)))
            XCTAssertNoThrow(try FastCDC(ChunkerParameters(minimumSize: 4096, averageSize: 4096, maximumSize: 4096, normalization: nc)))
        }
        for profile in RepositoryConfig.defaultProfiles {
            XCTAssertNoThrow(try profile.parameters(seed: .max).validate(), profile.name)
        }
    }

    func testDefaultInitializerUsesQuarterAndFourTimes() {
        let p = ChunkerParameters(averageSize: 16384)
        XCTAssertEqual([p.minimumSize, p.averageSize, p.maximumSize], [4096, 16384, 65536])
        XCTAssertEqual(p.normalization, 1)
        XCTAssertEqual(p.seed, 0)
    }

    /// Python's `math.floor(math.log2(v) + 0.5)`, computed the same way
    /// (libm log2 on doubles), for every value up to 2^23 plus boundaries.
    func testLog2RoundedMatchesFloatingPointFormula() {
        func python(_ v: Int) -> Int { Int((log2(Double(v)) + 0.5).rounded(.down)) }
        XCTAssertEqual(FastCDC.log2Rounded(0), 0)
        XCTAssertEqual(FastCDC.log2Rounded(-5), 0)
        var mismatches: [Int] = []
        for v in 1...(1 << 23) where FastCDC.log2Rounded(v) != python(v) { mismatches.append(v) }
        XCTAssertEqual(mismatches, [])
        // Exact around 2^(k + 1/2) far beyond the valid range (the old code overflowed v*v).
        for k in 0...61 {
            let edge = Int((Double(1 << k) * 2.0.squareRoot()).rounded(.down))
            for v in [edge - 1, edge, edge + 1, edge + 2] where v > 0 {
                // v rounds up iff v^2 >= 2^(2k+1); checked here with exact 128-bit arithmetic.
                let sq = UInt64(v).multipliedFullWidth(by: UInt64(v))
                let twice = 2 * k + 1
                let up = twice >= 64 ? sq.high >= 1 << UInt64(twice - 64) : (sq.high > 0 || sq.low >= 1 << UInt64(twice))
                let floorLog = Int.bitWidth - 1 - v.leadingZeroBitCount
                if floorLog == k { XCTAssertEqual(FastCDC.log2Rounded(v), up ? k + 1 : k, "v = \(v)") }
            }
        }
        XCTAssertEqual(FastCDC.log2Rounded(Int.max), 63)
        XCTAssertEqual(FastCDC.log2Rounded(5792), 12)
        XCTAssertEqual(FastCDC.log2Rounded(5793), 13)
    }
}
