import CairnSystem
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The one read/write loop: short transfers continued, `EINTR` retried (a
/// signal handler installed without `SA_RESTART` interrupts the blocking calls
/// hundreds of times here), errors reported as `Errno`.
final class FileDescriptorIOTests: XCTestCase {
    private func pipePair() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw Errno(errno) }
        return (fds[0], fds[1])
    }

    private static func pattern(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) } }

    /// Writes `bytes` to `fd` in small pieces with pauses, on another thread, then closes it.
    private func trickle(_ bytes: [UInt8], to fd: Int32, piece: Int, pauseMicros: UInt32) -> Thread {
        let t = Thread {
            var off = 0
            while off < bytes.count {
                let n = min(piece, bytes.count - off)
                bytes.withUnsafeBytes { b in _ = try? FileDescriptorIO.writeAll(fd, UnsafeRawBufferPointer(rebasing: b[off..<off + n])) }
                off += n
                usleep(pauseMicros)
            }
            close(fd)
        }
        t.start()
        return t
    }

    func testReadFullCollectsShortReadsUntilTheEnd() throws {
        let (r, w) = try pipePair()
        defer { close(r) }
        let data = Self.pattern(100_000)
        _ = trickle(data, to: w, piece: 777, pauseMicros: 100)
        var out = [UInt8](repeating: 0, count: 150_000)
        let got = try out.withUnsafeMutableBytes { try FileDescriptorIO.readFull(r, into: $0) }
        XCTAssertEqual(got, data.count, "fewer bytes only at the end of the stream")
        XCTAssertEqual(Array(out[..<got]), data)
        XCTAssertEqual(try out.withUnsafeMutableBytes { try FileDescriptorIO.read(r, into: $0) }, 0, "end of file reads 0")
    }

    func testInterruptedCallsAreRetried() throws {
        // Blocking reads and writes on a pipe return EINTR each time the interrupts fire.
        try Interrupts.during { try interruptedReadsAndWrites() }
    }

    private func interruptedReadsAndWrites() throws {
        // Reads: the writer pauses, so the reader blocks and is interrupted.
        let (r, w) = try pipePair()
        let data = Self.pattern(200_000)
        let writer = trickle(data, to: w, piece: 4096, pauseMicros: 2_000)
        var out = [UInt8](repeating: 0, count: data.count)
        let got = try out.withUnsafeMutableBytes { try FileDescriptorIO.readFull(r, into: $0) }
        XCTAssertEqual(got, data.count)
        XCTAssertEqual(out, data)
        close(r)
        _ = writer
        // Writes: more than the pipe holds, to a slow reader, so the writer blocks and is interrupted.
        let (r2, w2) = try pipePair()
        let big = Self.pattern(1 << 20)
        final class Outcome: @unchecked Sendable { var error: (any Error)?; let done = DispatchSemaphore(value: 0) }
        let outcome = Outcome()
        Thread {
            do { try big.withUnsafeBytes { try FileDescriptorIO.writeAll(w2, $0) } } catch { outcome.error = error }
            close(w2)
            outcome.done.signal()
        }.start()
        var received: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 3000)
        while true {
            let n = try buf.withUnsafeMutableBytes { try FileDescriptorIO.read(r2, into: $0) }
            if n == 0 { break }
            received += buf[..<n]
            usleep(200)
        }
        outcome.done.wait()
        close(r2)
        XCTAssertNil(outcome.error)
        XCTAssertEqual(received, big)
    }

    func testPreadAndPwriteAtOffsetsAndErrors() throws {
        let path = NSTemporaryDirectory() + "cairn-fdio-\(UUID().uuidString)"
        defer { unlink(path) }
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let data = Self.pattern(10_000)
        try data.withUnsafeBytes { try FileDescriptorIO.pwriteAll(fd, $0, at: 5_000) }
        var out = [UInt8](repeating: 0xAA, count: 20_000)
        let got = try out.withUnsafeMutableBytes { try FileDescriptorIO.preadFull(fd, into: $0, at: 5_000) }
        XCTAssertEqual(got, data.count, "stops at the end of the file")
        XCTAssertEqual(Array(out[..<got]), data)
        // A hole before the data reads as zeros.
        var head = [UInt8](repeating: 0xAA, count: 5_000)
        XCTAssertEqual(try head.withUnsafeMutableBytes { try FileDescriptorIO.preadFull(fd, into: $0, at: 0) }, 5_000)
        XCTAssertEqual(head, [UInt8](repeating: 0, count: 5_000))
        // A bad descriptor is an Errno naming EBADF, not a crash or a loop.
        XCTAssertThrowsError(try head.withUnsafeMutableBytes { try FileDescriptorIO.read(-1, into: $0) }) { error in
            XCTAssertEqual(Errno.code(of: error), EBADF)
            XCTAssertEqual("\(error)", "Bad file descriptor")
        }
        XCTAssertThrowsError(try data.withUnsafeBytes { try FileDescriptorIO.writeAll(-1, $0) }) { XCTAssertEqual(Errno.code(of: $0), EBADF) }
    }
}
