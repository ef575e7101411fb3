#if canImport(Glibc)
import Glibc
#endif
import Foundation
@testable import CairnRedisClient
import XCTest

/// Inputs the `resp` fuzz target (Fuzz/) found; their bytes are in
/// Fuzz/Regressions/. Each must end in a clean error, never a crash.
final class FuzzRegressionTests: XCTestCase {
    /// A connection whose server sent `bytes` and hung up.
    private func connection(receiving bytes: [UInt8]) throws -> RedisConnection {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let server = fds[1]
        let writer = Thread {
            var off = 0
            while off < bytes.count {
                let n = bytes.withUnsafeBytes { send(server, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                off += n
            }
            close(server)
        }
        writer.start()
        return RedisConnection(connectedSocket: fds[0], endpoint: RedisEndpoint())
    }

    private func assertProtocolError(_ bytes: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let c = try connection(receiving: bytes)
        defer { c.close() }
        XCTAssertThrowsError(try c.readReply(), file: file, line: line) { e in
            guard case RedisError.protocolError(let m) = e else { return XCTFail("\(e)", file: file, line: line) }
            XCTAssertTrue(m.contains(fragment), m, file: file, line: line)
        }
    }

    /// Fuzz/Regressions/resp/deep-nesting: `*1\r\n` repeated 16,000 times overflowed
    /// the stack (one recursion per level); a server can send any number of them.
    func testDeeplyNestedReplyIsRefused() throws {
        let deep = Array(String(repeating: "*1\r\n", count: 100_000).utf8) + Array(":1\r\n".utf8)
        try assertProtocolError(deep, "nested more than 8 deep")
        // Eight levels are still read.
        let c = try connection(receiving: Array((String(repeating: "*1\r\n", count: 8) + ":7\r\n").utf8))
        var reply = try c.readReply()
        for _ in 0..<8 {
            guard case .array(let items?) = reply, items.count == 1 else { return XCTFail("\(reply)") }
            reply = items[0]
        }
        XCTAssertEqual(reply, .integer(7))
    }

    /// Arrays of arrays may not add up to more than 2^20 elements in one reply.
    func testTooManyElementsAreRefused() throws {
        try assertProtocolError(Array("*1048576\r\n*2\r\n:1\r\n:2\r\n".utf8), "more than 1048576 elements")
    }
}
