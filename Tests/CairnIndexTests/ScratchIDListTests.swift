import CairnFormat
import CairnIndex
import CairnTestSupport
import Foundation
import XCTest

/// `ScratchIDList`: ids read back in the order appended, from memory and from the scratch file alike.
final class ScratchIDListTests: XCTestCase {
    private func id(_ n: Int) -> ChunkID {
        var bytes = [UInt8](repeating: 0, count: 32)
        withUnsafeBytes(of: UInt64(n).bigEndian) { for (i, b) in $0.enumerated() { bytes[i] = b; bytes[31 - i] = b ^ 0x5a } }
        return ChunkID(bytes: bytes)!
    }

    func testIdsComeBackInOrderAcrossTheSpill() throws {
        let directory = try temporaryDirectory("scratch-ids")
        let list = ScratchIDList(directory: directory, memoryLimit: 7)
        XCTAssertTrue(list.isEmpty)
        for n in 0..<1000 { try list.append(id(n)) }
        XCTAssertEqual(list.count, 1000)
        XCTAssertTrue(list.hasSpilled)
        XCTAssertEqual(try list.ids(0..<1000), (0..<1000).map(id))
        XCTAssertEqual(try list.ids(990..<1000), (990..<1000).map(id), "the tail, partly still in memory")
        XCTAssertEqual(try list.ids(5..<9), (5..<9).map(id), "a window across a spill boundary")
        XCTAssertEqual(try list.ids(500..<500), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [], "the scratch file is unlinked at once")
        // Appending after reading goes on where it left off.
        try list.append(id(1000))
        XCTAssertEqual(try list.ids(995..<1001), (995...1000).map(id))
    }

    func testASmallListStaysInMemory() throws {
        let list = ScratchIDList(directory: "/nonexistent-cairn-dir", memoryLimit: 100)
        for n in 0..<99 { try list.append(id(n)) }
        XCTAssertFalse(list.hasSpilled)
        XCTAssertEqual(try list.ids(0..<99), (0..<99).map(id))
    }

    func testAListThatCannotSpillSaysWhere() throws {
        let list = ScratchIDList(directory: "/nonexistent-cairn-dir", memoryLimit: 2)
        try list.append(id(0))
        XCTAssertThrowsError(try list.append(id(1))) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent-cairn-dir"), "\(error)")
        }
    }
}
