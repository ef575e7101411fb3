import CairnStorage
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Issue 14.2: listing a directory must read each readdir record's name in
/// place, never the whole 256-byte `d_name` (which runs past readdir's buffer).
final class DirectoryReaderTests: XCTestCase {
    var dir: String!

    override func setUp() { dir = NSTemporaryDirectory() + "cairn-dirreader-\(UUID().uuidString)" }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    /// A short record placed so that it ends exactly where readable memory ends
    /// (the next page is PROT_NONE): reading one byte beyond `d_reclen` faults.
    func testRecordEndingAtAPageBoundaryIsReadInPlace() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard let map = mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), map != MAP_FAILED else {
            return XCTFail("mmap: \(String(cString: strerror(errno)))")
        }
        defer { munmap(map, 2 * page) }
        XCTAssertEqual(mprotect(map + page, page, PROT_NONE), 0)
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        let reclenOffset = MemoryLayout<dirent>.offset(of: \dirent.d_reclen)!
        for name in ["a", "wal", "000000010000000000000001", String(repeating: "n", count: 255)] {
            let bytes = Array(name.utf8)
            // Records are 8-byte aligned: name + NUL rounded up, as the kernel packs them.
            let reclen = (nameOffset + bytes.count + 1 + 7) & ~7
            let record = map + page - reclen
            memset(record, 0x41, reclen)  // no NUL in the padding: only the terminator ends the name
            record.storeBytes(of: UInt16(reclen), toByteOffset: reclenOffset, as: UInt16.self)
            bytes.withUnsafeBytes { (record + nameOffset).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            (record + nameOffset + bytes.count).storeBytes(of: 0, as: UInt8.self)
            XCTAssertEqual(DirectoryReader.name(ofRecord: UnsafeRawPointer(record)), bytes)
            // A record whose name fills it to the last byte without a NUL is cut at d_reclen.
            let full = reclen - nameOffset
            memset(record + nameOffset, 0x42, full)
            XCTAssertEqual(DirectoryReader.name(ofRecord: UnsafeRawPointer(record)), [UInt8](repeating: 0x42, count: full))
        }
    }

    /// Thousands of entries with names of every length from 1 to 255 bytes
    /// (and a non-UTF-8 one), listed many times through both readers.
    func testThousandsOfEntriesListedManyTimes() async throws {
        let store = LocalStore(root: dir)
        try store.createLayout()
        let snapshots = "\(dir!)/snapshots"
        var expected = Set<[UInt8]>()
        for i in 0..<3_000 {
            let length = 1 + (i * 37) % 255
            var name = Array(String(format: "%05d", i).utf8)
            name += [UInt8](repeating: UInt8(ascii: "a") + UInt8(i % 26), count: max(0, length - name.count))
            name = Array(name.prefix(max(length, 5)))
            let fd = (name + [0]).withUnsafeBufferPointer { b in
                b.withMemoryRebound(to: CChar.self) { open("\(snapshots)/" + String(cString: $0.baseAddress!), O_CREAT | O_WRONLY, 0o600) }
            }
            XCTAssertGreaterThanOrEqual(fd, 0)
            close(fd)
            expected.insert(name)
        }
        let raw: [UInt8] = Array("\(snapshots)/caf".utf8) + [0xE9, 0]
        let fd = raw.withUnsafeBufferPointer { b in b.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o600) } }
        XCTAssertGreaterThanOrEqual(fd, 0)
        close(fd)
        expected.insert(Array("caf".utf8) + [0xE9])

        for _ in 0..<100 {
            let names = try XCTUnwrap(DirectoryReader.names(snapshots))
            XCTAssertEqual(names.count, expected.count)
            XCTAssertEqual(Set(names), expected)
        }
        let dfd = open(snapshots, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { close(dfd) }
        for _ in 0..<20 { XCTAssertEqual(Set(try XCTUnwrap(DirectoryReader.names(directoryFD: dfd))), expected) }
        let asText = Set(expected.map { String(decoding: $0, as: UTF8.self) })
        for _ in 0..<20 {
            let listed = try await store.list(.snapshots).map(\.name)
            XCTAssertEqual(Set(listed), asText)
        }
    }

    func testMissingAndUnreadableDirectories() throws {
        XCTAssertNil(DirectoryReader.names("\(dir!)/absent"))
        XCTAssertEqual(errno, ENOENT)
        XCTAssertEqual(try DirectoryReader.stringNames("\(dir!)/absent"), [])
        XCTAssertThrowsError(try DirectoryReader.stringNames("/etc/hostname")) { error in
            XCTAssertTrue("\(error)".contains("/etc/hostname"), "\(error)")
        }
    }
}
