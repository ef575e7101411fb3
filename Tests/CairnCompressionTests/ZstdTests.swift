import CairnCompression
import CairnFormat
import XCTest

final class ZstdTests: XCTestCase {
    func testRoundTripAndLimits() throws {
        let text = Array(String(repeating: "INSERT INTO t VALUES (1, 'abc');\n", count: 1000).utf8)
        let z = try Zstd.shared.compress(text, level: 3)
        XCTAssertLessThan(z.count, text.count / 10)
        XCTAssertEqual(try Zstd.shared.decompress(z, limit: text.count), text)
        XCTAssertThrowsError(try Zstd.shared.decompress(z, limit: text.count - 1))
        XCTAssertThrowsError(try Zstd.shared.decompress(Array(z.prefix(z.count - 3)), limit: text.count))
        XCTAssertThrowsError(try Zstd.shared.decompress([1, 2, 3, 4, 5, 6, 7, 8], limit: 100))
    }

    func testLevelNames() {
        XCTAssertEqual(Zstd.level(named: "off"), 0)
        XCTAssertEqual(Zstd.level(named: "default"), 2)
        // `cairn init --compression default` and a repository made in code agree.
        XCTAssertEqual(Zstd.level(named: "default"), RepositoryConfig.defaultCompressionLevel)
        XCTAssertEqual(Zstd.level(named: "19"), 19)
        XCTAssertNil(Zstd.level(named: "23"))
        XCTAssertNil(Zstd.level(named: "fastest-ever"))
    }

    func testConcurrentUseOfThePool() async throws {
        let input = Array(String(repeating: "abcdefgh", count: 10_000).utf8)
        try await withThrowingTaskGroup(of: Void.self) { g in
            for _ in 0..<16 {
                g.addTask {
                    for _ in 0..<20 {
                        let z = try Zstd.shared.compress(input, level: 3)
                        XCTAssertEqual(try Zstd.shared.decompress(z, limit: input.count), input)
                    }
                }
            }
            try await g.waitForAll()
        }
    }
}
