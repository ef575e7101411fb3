import CairnPostgres
import CairnTestSupport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A `pg dump` read back through `cairn mount` (issue 17): `pg_restore --list`
/// on the file in the mount lists the same archive as on the bytes `restore
/// --stdout` writes.
final class MountDumpTests: XCTestCase {
    func testPgRestoreListsADumpReadThroughTheMount() throws {
        var why: String? = nil
        if access("/dev/fuse", R_OK | W_OK) != 0 { why = "/dev/fuse is missing or not usable" }
        else if geteuid() != 0 { why = "the mount is made as root here (fusermount3 is not installed)" }
        if let why { throw RequiredProgram.missing("FUSE cannot run here: \(why)") }
        let sandbox = try Sandbox()
        let cluster = try PostgresCluster(sandbox: sandbox, archiveCommand: "/bin/true")
        defer { cluster.stop() }
        let admin = try cluster.connect()
        try admin.query("CREATE DATABASE shop")
        let shop = try cluster.connect("shop")
        try shop.query("CREATE TABLE customers(id int PRIMARY KEY, name text)")
        try shop.query("INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 5000) g")
        try shop.query("CREATE TABLE orders(id bigserial PRIMARY KEY, customer int REFERENCES customers, note text)")
        try shop.query("INSERT INTO orders(customer, note) SELECT 1 + g % 5000, md5(g::text) FROM generate_series(1, 20000) g")
        try sandbox.cairnRun(["pg", "dump", "--name", "shop-dump", "--dbname", "host=\(cluster.dir) port=\(cluster.port) dbname=shop user=postgres"]).check("pg dump")

        // This process (root) mounts, with a cache of its own.
        let fromRestore = sandbox.dir + "/restored.dump"
        var env = sandbox.repositoryEnvironment
        env["CAIRN_CACHE_DIR"] = sandbox.dir + "/root-cache"

        let mnt = sandbox.dir + "/mnt"
        try FileManager.default.createDirectory(atPath: mnt, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: sandbox.cairn)
        mount.arguments = ["mount", mnt]
        mount.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"].merging(env) { $1 }
        let log = sandbox.dir + "/mount.log"
        XCTAssertTrue(FileManager.default.createFile(atPath: log, contents: nil))
        mount.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        mount.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try mount.run()
        defer {
            _ = umount2(mnt, Int32(MNT_DETACH))
            if mount.isRunning { kill(mount.processIdentifier, SIGKILL) }
        }
        let group = mnt + "/names/shop-dump/latest"
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, (try? FileManager.default.contentsOfDirectory(atPath: group))?.isEmpty ?? true, mount.isRunning { usleep(50_000) }
        let files = try FileManager.default.contentsOfDirectory(atPath: group)
        XCTAssertEqual(files.count, 1, "\(files)")
        let dumpInMount = group + "/" + files[0]

        let bin = try PostgresCluster.binaries()
        // pg_restore of the file in the mount (reads it with seeks) and of restore's bytes: the same table of contents.
        let listed = try Runner.run([bin + "/pg_restore", "--list", dumpInMount], env: [:], stdin: nil, cwd: sandbox.dir, timeout: 120).check("pg_restore --list (mount)")
        try Runner.run(["/bin/sh", "-c", "\(sandbox.cairn) restore latest --name shop-dump --stdout > \(fromRestore)"], env: env, stdin: nil, cwd: sandbox.dir, timeout: 120).check("restore to a file")
        let expected = try Runner.run([bin + "/pg_restore", "--list", fromRestore], env: [:], stdin: nil, cwd: sandbox.dir, timeout: 120).check("pg_restore --list (restore)")
        XCTAssertTrue(listed.out.contains("TABLE public customers") && listed.out.contains("TABLE DATA public orders"), listed.out)
        func body(_ s: String) -> [Substring] { s.split(separator: "\n").filter { !$0.hasPrefix(";") } }
        XCTAssertEqual(body(listed.out), body(expected.out))
        XCTAssertEqual(FileManager.default.contents(atPath: dumpInMount), FileManager.default.contents(atPath: fromRestore))

        XCTAssertEqual(umount(mnt), 0)
        mount.waitUntilExit()
        XCTAssertEqual(mount.terminationStatus, 0, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: sandbox.repo + "/locks")) ?? [], [], "no lock left")
    }
}
