import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Sockets, FIFOs and devices in a backed-up tree are recorded as what they
/// are: no warning, no exit 3 on every run; a restore recreates FIFOs (and
/// devices as root), never sockets; `restore --tar` carries FIFOs and devices.
final class SpecialFileTests: CLITestCase {
    /// Binds a Unix socket at `path` (through a short path: sun_path holds 107 bytes); returns its descriptor.
    private func bindSocket(at path: String) throws -> Int32 {
        let short = "/tmp/cairn-sock-\(UInt32.random(in: 0...UInt32.max))"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CLIError.setup("socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in short.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, rename(short, path) == 0 else { close(fd); throw CLIError.setup("bind/rename: \(String(cString: strerror(errno)))") }
        return fd
    }

    func testSocketsFIFOsAndDevicesAreRecordedNotWarnedAbout() throws {
        try initRepo()
        let src = try makeDir("node")
        try write(Data("chain data".utf8), to: src.appendingPathComponent("data/blocks.db"))
        let sock = try bindSocket(at: src.appendingPathComponent("geth.ipc").path)
        defer { close(sock) }
        XCTAssertEqual(mkfifo(src.appendingPathComponent("data/queue").path, 0o620), 0)
        try Posix.chmod(src.appendingPathComponent("data/queue").path, 0o620)  // past the umask
        let mtime: Int64 = 1_600_000_000_123_456_789
        try Posix.setMtime(src.appendingPathComponent("data/queue").path, nanos: mtime)
        if Posix.isRoot {
            XCTAssertEqual(mknod(src.appendingPathComponent("null").path, S_IFCHR | 0o666, dev_t((1 << 8) | 3)), 0)
            // Block device 8:1 (sda1's numbers), never opened.
            XCTAssertEqual(mknod(src.appendingPathComponent("disk").path, S_IFBLK | 0o600, dev_t((8 << 8) | 1)), 0)
            try Posix.chmod(src.appendingPathComponent("null").path, 0o666)
        }
        // Every run exits 0: nothing the operator wanted was left out.
        for run in 0..<2 {
            let r = try cli.run(["backup", "--json", src.path])
            XCTAssertEqual(r.status, 0, "run \(run): \(r.summary)")
            XCTAssertFalse(r.err.contains("warning"), r.summary)
            XCTAssertEqual(try r.jsonObject()["warnings"] as? [String], [])
        }
        let ls = try ok(["ls", "latest", "--json"]).jsonLines()
        var types: [String: String] = [:]
        for e in ls { if let p = e["path"] as? String, let t = e["type"] as? String { types[p] = t } }
        XCTAssertEqual(types[src.path + "/geth.ipc"], "socket", "\(types)")
        XCTAssertEqual(types[src.path + "/data/queue"], "fifo", "\(types)")
        let human = try ok(["ls", "latest"]).out
        XCTAssertTrue(human.split(separator: "\n").contains { $0.hasPrefix("s") && $0.hasSuffix(src.path + "/geth.ipc") }, human)
        XCTAssertTrue(human.split(separator: "\n").contains { $0.hasPrefix("p 620") && $0.hasSuffix(src.path + "/data/queue") }, human)
        if Posix.isRoot {
            XCTAssertEqual(types[src.path + "/null"], "chardev", "\(types)")
            XCTAssertEqual(types[src.path + "/disk"], "dev", "\(types)")
        }

        // Restore: the FIFO comes back as a FIFO with its mode and mtime, devices (as root) with their numbers, no socket.
        let out = tmp.appendingPathComponent("out")
        let restore = try ok(["restore", "latest", "--target", out.path])
        XCTAssertFalse(restore.err.contains("warning"), restore.summary)
        let fifo = try XCTUnwrap(Posix.lstat(restored(src, under: out).appendingPathComponent("data/queue").path))
        XCTAssertEqual(fifo.st_mode & S_IFMT, S_IFIFO)
        XCTAssertEqual(fifo.st_mode & 0o7777, 0o620)
        XCTAssertEqual(Posix.mtimeNanos(fifo), mtime)
        XCTAssertNil(Posix.lstat(restored(src, under: out).appendingPathComponent("geth.ipc").path), "a socket is not recreated")
        XCTAssertEqual(FileManager.default.contents(atPath: restored(src, under: out).appendingPathComponent("data/blocks.db").path), Data("chain data".utf8))
        if Posix.isRoot {
            let null = try XCTUnwrap(Posix.lstat(restored(src, under: out).appendingPathComponent("null").path))
            XCTAssertEqual(null.st_mode & S_IFMT, S_IFCHR)
            XCTAssertEqual(null.st_rdev, dev_t((1 << 8) | 3))
            let disk = try XCTUnwrap(Posix.lstat(restored(src, under: out).appendingPathComponent("disk").path))
            XCTAssertEqual(disk.st_mode & S_IFMT, S_IFBLK)
            XCTAssertEqual(disk.st_rdev, dev_t((8 << 8) | 1))
        }
        // Restoring again over the first restore replaces the FIFO in place.
        try ok(["restore", "latest", "--target", out.path])
        XCTAssertEqual((Posix.lstat(restored(src, under: out).appendingPathComponent("data/queue").path)?.st_mode ?? 0) & S_IFMT, S_IFIFO)

        // restore --tar: GNU tar lists the FIFO (and the devices with their numbers), no socket.
        let tarFile = tmp.appendingPathComponent("node.tar")
        let tarRun = try cli.run(["restore", "latest", "--tar"], stdoutTo: tarFile)
        XCTAssertEqual(tarRun.status, 0, tarRun.summary)
        let listing = try Self.shell("tar -tvf \(Self.quote(tarFile.path))")
        XCTAssertEqual(listing.status, 0, listing.err)
        XCTAssertTrue(listing.out.split(separator: "\n").contains { $0.hasPrefix("prw--w----") && $0.hasSuffix("node/data/queue") }, listing.out)
        XCTAssertFalse(listing.out.contains("geth.ipc"), listing.out)
        if Posix.isRoot {
            XCTAssertTrue(listing.out.split(separator: "\n").contains { $0.hasPrefix("crw-rw-rw-") && $0.contains("1,3") && $0.hasSuffix("node/null") }, listing.out)
            XCTAssertTrue(listing.out.split(separator: "\n").contains { $0.hasPrefix("brw-------") && $0.contains("8,1") && $0.hasSuffix("node/disk") }, listing.out)
        }
        // And scrub is clean.
        try ok(["scrub", "--read-data"])
    }

    /// Devices in a snapshot restored without the privilege to make them: a warning each, the rest restored.
    func testDeviceWithoutPrivilegeIsAWarning() throws {
        guard Posix.isRoot, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            throw XCTSkip("needs root (to make the device) and setpriv (to restore without root)")
        }
        try initRepo()
        let src = try makeDir("devs")
        XCTAssertEqual(mknod(src.appendingPathComponent("null").path, S_IFCHR | 0o666, dev_t((1 << 8) | 3)), 0)
        try write(Data("x".utf8), to: src.appendingPathComponent("file"))
        _ = try backup([src.path])
        var runner = cli!
        runner.launcher = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        try Self.shell("chown -R 65534:65534 \(Self.quote(tmp.path))")
        let out = tmp.appendingPathComponent("out")
        let r = try runner.run(["restore", "latest", "--target", out.path])
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertTrue(r.err.contains("cannot create the character device \(src.path)/null") && r.err.contains("needs root"), r.summary)
        XCTAssertEqual(FileManager.default.contents(atPath: restored(src, under: out).appendingPathComponent("file").path), Data("x".utf8))
    }
}
