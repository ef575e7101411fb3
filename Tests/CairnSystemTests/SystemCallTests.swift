import CairnSystem
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The one `EINTR` loop (`SystemCall`) and the calls built on it: `writev`, socket send/recv,
/// `flock`, `waitpid` and sleeps, each made while a handler installed without `SA_RESTART`
/// interrupts blocking calls every half millisecond.
final class SystemCallTests: XCTestCase {
    private static func pattern(_ n: Int, seed: Int = 0) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: ($0 &+ seed) &* 31 &+ $0 >> 8) } }

    /// Reads `fd` slowly (small reads with pauses) to its end on another thread.
    private final class SlowReader: @unchecked Sendable {
        var received: [UInt8] = []
        let done = DispatchSemaphore(value: 0)
        init(_ fd: Int32, socket: Bool = false) {
            Thread { [self] in
                var buf = [UInt8](repeating: 0, count: 3000)
                while true {
                    let n = (try? buf.withUnsafeMutableBytes { socket ? try FileDescriptorIO.receive(fd, into: $0) : try FileDescriptorIO.read(fd, into: $0) }) ?? 0
                    if n == 0 { break }
                    received += buf[..<n]
                    usleep(100)
                }
                done.signal()
            }.start()
        }
    }

    func testWritevAllWritesEveryChunkInOrderThroughInterruptsAndShortWrites() throws {
        // 300 chunks of odd sizes (4.4 MiB, far more than a pipe holds): writev blocks, is interrupted and writes short.
        let chunks = (0..<300).map { Self.pattern(1 + ($0 * 7919) % 30_000, seed: $0) }
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let reader = SlowReader(fds[0])
        let interrupts = try Interrupts.during {
            var iov: [iovec] = []
            func pin(_ i: Int, _ body: (inout [iovec]) throws -> Void) rethrows {
                guard i < chunks.count else { return try body(&iov) }
                try chunks[i].withUnsafeBytes { b in
                    iov.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: b.baseAddress), iov_len: b.count))
                    try pin(i + 1, body)
                }
            }
            try pin(0) { try FileDescriptorIO.writevAll(fds[1], &$0, at: nil) }
        }
        close(fds[1])
        reader.done.wait()
        close(fds[0])
        XCTAssertEqual(reader.received, chunks.flatMap { $0 })
        XCTAssertGreaterThan(interrupts, 0, "the timer fired while writev was blocked")
    }

    func testPwritevAllWritesAtTheOffset() throws {
        let path = NSTemporaryDirectory() + "cairn-writev-\(UUID().uuidString)"
        defer { unlink(path) }
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let a = Self.pattern(1000, seed: 1), b = Self.pattern(2000, seed: 2)
        try a.withUnsafeBytes { pa in
            try b.withUnsafeBytes { pb in
                var iov = [iovec(iov_base: UnsafeMutableRawPointer(mutating: pa.baseAddress), iov_len: pa.count),
                           iovec(iov_base: UnsafeMutableRawPointer(mutating: pb.baseAddress), iov_len: pb.count)]
                try FileDescriptorIO.writevAll(fd, &iov, at: 500)
            }
        }
        var out = [UInt8](repeating: 0xAA, count: 4000)
        XCTAssertEqual(try out.withUnsafeMutableBytes { try FileDescriptorIO.preadFull(fd, into: $0, at: 0) }, 3500)
        XCTAssertEqual(Array(out[0..<500]), [UInt8](repeating: 0, count: 500))
        XCTAssertEqual(Array(out[500..<3500]), a + b)
        var none: [iovec] = [iovec(iov_base: nil, iov_len: 1)]
        XCTAssertThrowsError(try FileDescriptorIO.writevAll(-1, &none, at: nil)) { XCTAssertEqual(Errno.code(of: $0), EBADF) }
    }

    func testSocketSendAndReceiveThroughInterrupts() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        let data = Self.pattern(3 << 20, seed: 3)
        let reader = SlowReader(fds[1], socket: true)
        let interrupts = try Interrupts.during {
            try data.withUnsafeBytes { try FileDescriptorIO.sendAll(fds[0], $0) }
        }
        shutdown(fds[0], Int32(SHUT_WR))
        reader.done.wait()
        close(fds[0]); close(fds[1])
        XCTAssertEqual(reader.received, data)
        XCTAssertGreaterThan(interrupts, 0)
        // A peer that went away is EPIPE, not SIGPIPE killing the process.
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        close(fds[1])
        XCTAssertThrowsError(try data.withUnsafeBytes { try FileDescriptorIO.sendAll(fds[0], $0) }) { XCTAssertEqual(Errno.code(of: $0), EPIPE) }
        close(fds[0])
    }

    func testLockIsExclusiveAndAWaitingLockIsTakenThroughInterrupts() throws {
        let path = NSTemporaryDirectory() + "cairn-flock-\(UUID().uuidString)"
        defer { unlink(path) }
        let holder = open(path, O_RDWR | O_CREAT, 0o600), other = open(path, O_RDWR)
        defer { close(other) }
        XCTAssertTrue(try SystemCall.lockExclusive(holder, wait: false))
        XCTAssertFalse(try SystemCall.lockExclusive(other, wait: false), "held by another open file description")
        // A waiting lock blocks (interrupted many times) until the holder lets go 50 ms later.
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(50)) { close(holder) }
        let interrupts = try Interrupts.during {
            XCTAssertTrue(try SystemCall.lockExclusive(other, wait: true))
        }
        XCTAssertGreaterThan(interrupts, 10)
        SystemCall.unlock(other)
        XCTAssertThrowsError(try SystemCall.lockExclusive(-1, wait: false)) { XCTAssertEqual(Errno.code(of: $0), EBADF) }
    }

    func testSleepLastsItsTimeThroughInterruptsAndWaitpidReportsTheExit() throws {
        let start = DispatchTime.now().uptimeNanoseconds
        let interrupts = Interrupts.during { SystemCall.sleep(nanoseconds: 30_000_000) }
        XCTAssertGreaterThanOrEqual(DispatchTime.now().uptimeNanoseconds - start, 30_000_000, "each interrupted nanosleep continued with what was left")
        XCTAssertGreaterThan(interrupts, 10)

        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup("exit 7"), nil]
        defer { argv.forEach { free($0) } }
        XCTAssertEqual(posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ), 0)
        var status: Int32? = nil
        Interrupts.during {
            for _ in 0..<10_000 where status == nil {
                status = try? SystemCall.exitStatusIfEnded(pid)
                if status == nil { SystemCall.sleep(nanoseconds: 1_000_000) }
            }
        }
        XCTAssertEqual(status.map { ($0 >> 8) & 0xff }, 7)
        XCTAssertThrowsError(try SystemCall.exitStatusIfEnded(pid), "reaped: no longer a child") { XCTAssertEqual(Errno.code(of: $0), ECHILD) }
    }
}
