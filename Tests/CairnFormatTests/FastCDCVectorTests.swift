import Foundation
import XCTest
@testable import CairnFormat

/// The layout of `Vectors/fastcdc.json` (written by `Vectors/make_fastcdc_vectors.py`).
private struct FastCDCVectorFile: Decodable {
    struct Input: Decodable { var kind: String; var seed: String; var size: Int; var cuts: [Int] }
    struct Case: Decodable { var avg: Int; var min: Int; var max: Int; var nc: UInt8; var seed: String; var inputs: [Input] }
    var pyfastcdc: String
    var prefixes_seed_1: [String: String]
    var log2_rounded: [[Int]]
    var cases: [Case]
}

/// FastCDC against cut points computed by pyfastcdc for regenerated inputs.
final class FastCDCVectorTests: XCTestCase {
    private static func load() throws -> FastCDCVectorFile {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "fastcdc", withExtension: "json", subdirectory: "Vectors"))
        return try JSONDecoder().decode(FastCDCVectorFile.self, from: Data(contentsOf: url))
    }

    func testGeneratorsMatchPython() throws {
        let file = try Self.load()
        XCTAssertEqual(Set(file.prefixes_seed_1.keys), Set(GeneratedInput.allCases.map(\.rawValue)))
        for kind in GeneratedInput.allCases {
            XCTAssertEqual(Hex.encode(kind.bytes(seed: 1, count: 16)), file.prefixes_seed_1[kind.rawValue], kind.rawValue)
        }
    }

    func testCutPointsMatchPyfastcdc() throws {
        let file = try Self.load()
        XCTAssertEqual(file.pyfastcdc, "0.3.1")
        // Generate each (kind, seed) stream once, as long as its longest use.
        var longest: [String: Int] = [:]
        for c in file.cases { for i in c.inputs { longest["\(i.kind) \(i.seed)", default: 0] = max(longest["\(i.kind) \(i.seed)", default: 0], i.size) } }
        var streams: [String: [UInt8]] = [:]
        var cutCount = 0, byteCount = 0
        for c in file.cases {
            let seed = try XCTUnwrap(parseHexUInt64(c.seed))
            let params = ChunkerParameters(minimumSize: c.min, averageSize: c.avg, maximumSize: c.max, normalization: c.nc, seed: seed)
            let chunker = try FastCDC(params)
            for input in c.inputs {
                let key = "\(input.kind) \(input.seed)"
                if streams[key] == nil {
                    let kind = try XCTUnwrap(GeneratedInput(rawValue: input.kind))
                    streams[key] = kind.bytes(seed: try XCTUnwrap(parseHexUInt64(input.seed)), count: longest[key] ?? 0)
                }
                let bytes = try XCTUnwrap(streams[key])[..<input.size]
                let got = chunker.lengths(of: bytes)
                if got != input.cuts {
                    let firstDiff = (0..<min(got.count, input.cuts.count)).first { got[$0] != input.cuts[$0] } ?? min(got.count, input.cuts.count)
                    XCTFail("\(params), \(key) size \(input.size): \(got.count) cuts, expected \(input.cuts.count); first difference at chunk \(firstDiff)")
                }
                cutCount += input.cuts.count; byteCount += input.size
            }
        }
        XCTAssertGreaterThan(file.cases.count, 100)
        print("FastCDC vectors: \(file.cases.count) cases, \(cutCount) cuts, \(byteCount >> 20) MiB chunked")
    }

    func testLog2RoundedMatchesPython() throws {
        let file = try Self.load()
        XCTAssertGreaterThan(file.log2_rounded.count, 100)
        for pair in file.log2_rounded {
            XCTAssertEqual(FastCDC.log2Rounded(pair[0]), pair[1], "log2Rounded(\(pair[0]))")
        }
    }
}
