import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Files that change under a running backup: swapped for a FIFO, a socket, a
/// directory or another file between the scan and the read, or written while
/// they are read. Each run goes through the real binary.
final class ChangingSourceTests: CLITestCase {
    /// Starts `backup DIR PATH` where DIR holds one large file, waits until the
    /// backup has the large file open (the scan of both arguments is over by
    /// then), and calls `swap` while it is still reading it. Returns the run.
    private func backupSwapping(_ victim: URL, swap: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        let dir = try makeDir("bulk-\(UInt32.random(in: 0...UInt32.max))")
        let big = dir.appendingPathComponent("big.bin")
        try TestData.writeURandom(16 << 20, to: big)
        let running = try cli.start(["backup", "--json", "--name", "swap", dir.path, victim.path])
        XCTAssertTrue(waitUntilOpened(pid: running.pid, path: big.path), "the backup never opened \(big.path)", file: file, line: line)
        try swap()
        let r = running.wait(timeout: 120)
        XCTAssertFalse(r.timedOut, "the backup hung: \(r.summary)", file: file, line: line)
        return r
    }

    /// Polls /proc/PID/fd until one descriptor is `path`; false if the process ended first.
    private func waitUntilOpened(pid: Int32, path: String, timeout: TimeInterval = 60) -> Bool {
        let fdDir = "/proc/\(pid)/fd"
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard let fds = try? FileManager.default.contentsOfDirectory(atPath: fdDir) else { return false }
            for fd in fds where (try? FileManager.default.destinationOfSymbolicLink(atPath: fdDir + "/" + fd)) == path { return true }
            usleep(200)
        }
        return false
    }

    /// The run exited 3, named the victim as replaced by `what`, and the snapshot has the bulk directory but not the victim.
    private func assertReplaced(_ r: CLIResult, victim: URL, what: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(r.status, 3, r.summary, file: file, line: line)
        XCTAssertTrue(r.err.contains("\(victim.path): replaced by \(what)"), r.summary, file: file, line: line)
        let j = try r.jsonObject(file: file, line: line)
        XCTAssertEqual(j["changed_during_backup"] as? [String], [victim.path], "\(j)", file: file, line: line)
        let ls = try ok(["ls", try j.string("snapshot_id"), "--json"], file: file, line: line).jsonLines(file: file, line: line)
        let paths = ls.compactMap { $0["path"] as? String }
        XCTAssertFalse(paths.contains("/" + victim.lastPathComponent), "\(paths)", file: file, line: line)
        XCTAssertTrue(paths.contains { $0.hasSuffix("/big.bin") }, "\(paths)", file: file, line: line)
    }

    /// A regular file replaced by a FIFO after the scan: the backup neither
    /// blocks in open() nor reads it, names it, exits 3.
    func testFileReplacedByFIFOAfterTheScanDoesNotHang() throws {
        try initRepo()
        let victim = tmp.appendingPathComponent("victim")
        try write(Data("regular".utf8), to: victim)
        let r = try backupSwapping(victim) {
            let fifo = tmp.appendingPathComponent("fifo")
            XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
            XCTAssertEqual(rename(fifo.path, victim.path), 0)
        }
        try assertReplaced(r, victim: victim, what: "a FIFO")
        // The lock is gone: a prune runs right away.
        try ok(["prune"])
    }

    /// The same with a socket, a directory and a symlink swapped in (and a
    /// character device when running as root).
    func testFileReplacedBySocketDirectorySymlinkOrDevice() throws {
        try initRepo()
        var cases: [(String, (URL) throws -> Void)] = [
            ("a socket", { url in
                // Bound at a short path (sun_path holds 107 bytes), then renamed over the file.
                let short = "/tmp/cairn-sock-\(UInt32.random(in: 0...UInt32.max))"
                let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                XCTAssertGreaterThanOrEqual(fd, 0)
                defer { close(fd); unlink(short) }
                var addr = sockaddr_un()
                addr.sun_family = sa_family_t(AF_UNIX)
                withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                    for (i, b) in short.utf8.enumerated() { raw[i] = b }
                }
                let ok = withUnsafePointer(to: &addr) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
                XCTAssertEqual(ok, 0, "bind: \(String(cString: strerror(errno)))")
                XCTAssertEqual(rename(short, url.path), 0, "rename: \(String(cString: strerror(errno)))")
            }),
            ("a directory", { url in
                XCTAssertEqual(unlink(url.path), 0)
                XCTAssertEqual(mkdir(url.path, 0o755), 0)
            }),
            ("a symbolic link", { url in
                XCTAssertEqual(unlink(url.path), 0)
                XCTAssertEqual(symlink("/etc/hostname", url.path), 0)
            }),
        ]
        if Posix.isRoot {
            cases.append(("a character device", { url in
                XCTAssertEqual(unlink(url.path), 0)
                XCTAssertEqual(mknod(url.path, S_IFCHR | 0o600, dev_t((1 << 8) | 3)), 0)  // /dev/null's numbers
            }))
        }
        for (what, swap) in cases {
            let victim = tmp.appendingPathComponent("victim-\(what.split(separator: " ").last!)")
            try write(Data("regular".utf8), to: victim)
            let r = try backupSwapping(victim) { try swap(victim) }
            try assertReplaced(r, victim: victim, what: what)
        }
    }

    /// Another regular file renamed over the scanned one is read (it is a
    /// whole file) but reported as changed: exit 3.
    func testFileRenamedOverAfterTheScanIsReadAndReported() throws {
        try initRepo()
        let victim = tmp.appendingPathComponent("victim")
        try write(Data("old content".utf8), to: victim)
        let replacement = tmp.appendingPathComponent("replacement")
        try write(Data("new content, longer".utf8), to: replacement)
        let r = try backupSwapping(victim) { XCTAssertEqual(rename(replacement.path, victim.path), 0) }
        XCTAssertEqual(r.status, 3, r.summary)
        XCTAssertTrue(r.err.contains("\(victim.path): changed while it was read (replaced by another file after the scan"), r.summary)
        let id = try r.jsonObject().string("snapshot_id")
        let out = tmp.appendingPathComponent("out")
        try ok(["restore", id, "--target", out.path, "--include", victim.path])
        XCTAssertEqual(FileManager.default.contents(atPath: restored(victim, under: out).path), Data("new content, longer".utf8))
    }

    /// A writer rewrites bytes in place and puts the mtime back (same size,
    /// same mtime to the nanosecond, as tools that preserve mtimes do): only
    /// the ctime moves. Every run must flag the file.
    func testWriterRestoringSizeAndMtimeIsFlaggedEveryTime() throws {
        try initRepo()
        let dir = try makeDir("live")
        let target = dir.appendingPathComponent("table.dat")
        try write(TestData.random(4 << 20, seed: 140), to: target)
        try write(Data("stable".utf8), to: dir.appendingPathComponent("stable.txt"))
        // Whole seconds: the mtime stays inside one second whatever is written.
        let mtime = (Int64(Date().timeIntervalSince1970) - 60) * 1_000_000_000
        try Posix.setMtime(target.path, nanos: mtime)
        let writer = InPlaceWriter(path: target.path, size: 4 << 20, mtimeNanos: mtime)
        writer.start()
        defer { writer.stop() }
        let runs = 12
        for i in 0..<runs {
            let r = try cli.run(["backup", "--json", "--name", "live", dir.path])
            XCTAssertEqual(r.status, 3, "run \(i) of \(runs): \(r.summary)")
            XCTAssertTrue(r.err.contains("\(target.path): changed while it was read"), "run \(i): \(r.summary)")
            let j = try r.jsonObject()
            XCTAssertEqual(j["changed_during_backup"] as? [String], [target.path], "run \(i): \(j)")
        }
        writer.stop()
        XCTAssertGreaterThan(writer.writes, runs, "the writer did not run")
        // Size and mtime really stayed put.
        let st = try XCTUnwrap(Posix.lstat(target.path))
        XCTAssertEqual(Int(st.st_size), 4 << 20)
        XCTAssertEqual(Posix.mtimeNanos(st), mtime)
        // Quiet again: the next backup reads it and reports nothing.
        let quiet = try cli.run(["backup", "--json", "--name", "live", dir.path])
        XCTAssertEqual(quiet.status, 0, quiet.summary)
    }
}

/// Rewrites 4 KiB at a moving offset of a file, then sets its mtime back,
/// in a loop on its own thread.
final class InPlaceWriter: @unchecked Sendable {
    private let path: String, size: Int, mtimeNanos: Int64
    private let lock = NSLock()
    private var stopping = false
    private var count = 0
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)

    init(path: String, size: Int, mtimeNanos: Int64) { self.path = path; self.size = size; self.mtimeNanos = mtimeNanos }

    var writes: Int { lock.lock(); defer { lock.unlock() }; return count }

    func start() {
        let t = Thread { [self] in
            let fd = open(path, O_WRONLY)
            guard fd >= 0 else { done.signal(); return }
            let ts = timespec(tv_sec: Int(mtimeNanos / 1_000_000_000), tv_nsec: Int(mtimeNanos % 1_000_000_000))
            var block = [UInt8](repeating: 0, count: 4096)
            var round = 0
            while true {
                lock.lock(); let stop = stopping; lock.unlock()
                if stop { break }
                round += 1
                for i in block.indices { block[i] = UInt8(truncatingIfNeeded: round &+ i) }
                let offset = (round * 4096 * 7) % (size - 4096)
                _ = block.withUnsafeBytes { pwrite(fd, $0.baseAddress, 4096, off_t(offset)) }
                var times = [ts, ts]
                _ = futimens(fd, &times)
                lock.lock(); count += 1; lock.unlock()
                usleep(50)
            }
            close(fd)
            done.signal()
        }
        thread = t
        t.start()
    }

    func stop() {
        lock.lock()
        let wasRunning = thread != nil && !stopping
        stopping = true
        lock.unlock()
        if wasRunning { done.wait() }
    }
}
