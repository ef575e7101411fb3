import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// #15.18: a running cairn that holds the master key cannot dump core:
/// its soft core limit is 0, it is not dumpable (so /proc/PID belongs to
/// root, and other processes of its user cannot ptrace it or read its
/// environment), and the pages holding its keys are marked MADV_DONTDUMP.
final class CoreDumpTests: CLITestCase {
    func testRunningCairnHoldingKeysCannotDumpCore() throws {
        // Ownership of /proc/PID tells dumpable from not only for a process not running as root.
        var runner = cli!
        let asRoot = geteuid() == 0
        let nobody: uid_t = 65534
        if asRoot {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { throw XCTSkip("root without /usr/bin/setpriv") }
            runner.launcher = ["/usr/bin/setpriv", "--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups", "--"]
            for d in [tmp!, tmp.appendingPathComponent("io"), tmp.appendingPathComponent("home")] { chown(d.path, nobody, nobody) }
            let probe = try runner.run(["--version"])
            guard probe.status == 0 else { throw XCTSkip("cannot run cairn as uid \(nobody): \(probe.summary)") }
        }
        let initRun = try runner.run(["init"])
        XCTAssertEqual(initRun.status, 0, initRun.summary)

        // A backup from a pipe this test holds open: it unlocks the repository, then waits for input.
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let input = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        let feed = FileHandle(fileDescriptor: fds[1], closeOnDealloc: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: runner.launcher.first ?? runner.binary.path)
        p.arguments = runner.launcher.isEmpty ? ["backup", "--stdin", "--name", "probe"] : Array(runner.launcher.dropFirst()) + [runner.binary.path, "backup", "--stdin", "--name", "probe"]
        p.environment = runner.environment
        p.currentDirectoryURL = tmp
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        let errFile = tmp.appendingPathComponent("io/probe.err")
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        p.standardError = try FileHandle(forWritingTo: errFile)
        try p.run()
        try input.close()
        defer { if p.isRunning { p.terminate() } }
        // The cairn process itself (setpriv execs it, so the pid is the same).
        let pid = p.processIdentifier

        // Ready once it holds its lock: the repository is unlocked by then.
        let locks = repo.appendingPathComponent("locks")
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, ((try? FileManager.default.contentsOfDirectory(atPath: locks.path)) ?? []).isEmpty, p.isRunning {
            usleep(50_000)
        }
        XCTAssertTrue(p.isRunning, "cairn ended early: \((try? String(contentsOf: errFile, encoding: .utf8)) ?? "")")
        // Mappings of its own marked MADV_DONTDUMP (the kernel's [vvar] always is: not counted).
        var name = "", marked: [String] = []
        for line in Self.readProc("/proc/\(pid)/smaps").split(separator: "\n") {
            if let first = line.split(separator: " ").first, first.contains("-"), first.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
                name = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst(5).joined(separator: " ")
            } else if line.hasPrefix("VmFlags:"), line.split(separator: " ").contains("dd"), !name.hasPrefix("[v") {
                marked.append(name.isEmpty ? "anonymous" : name)
            }
        }
        XCTAssertFalse(marked.isEmpty, "no mapping of the running cairn is marked MADV_DONTDUMP (VmFlags dd)")
        let limits = Self.readProc("/proc/\(pid)/limits")
        let core = limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") }.map(String.init) ?? ""
        XCTAssertEqual(core.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).first, "0", "soft core limit: \(core)")
        // Not dumpable: the /proc entries of its threads belong to root. (Threads, not /proc/PID
        // itself: Swift's async main ends the main thread, and an exited leader's entries fall
        // back to the process's own uid.)
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        var owners: [String: uid_t] = [:]
        for tid in tasks {
            guard !Self.readProc("/proc/\(pid)/task/\(tid)/status").contains("State:\tZ") else { continue }
            var st = stat()
            if stat("/proc/\(pid)/task/\(tid)/status", &st) == 0 { owners[tid] = st.st_uid }
        }
        XCTAssertFalse(owners.isEmpty, "no live thread of \(pid)")
        XCTAssertTrue(owners.values.allSatisfy { $0 == 0 }, "threads' /proc entries belong to their user: the process is dumpable (\(owners)) pid \(pid) \((try? Self.shell("for t in /proc/\(pid)/task/*; do echo $t $(stat -c %U $t/status) $(grep State $t/status); done; cat /proc/\(pid)/comm; ls -l /proc/\(pid)/exe"))?.out ?? "")")
        let status = Self.readProc("/proc/\(pid)/status")
        XCTAssertTrue(status.contains("Uid:\t\(asRoot ? nobody : geteuid())"), status)

        try feed.close()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
    }

    /// A /proc file read to its end (they report size 0, and are produced in pieces).
    static func readProc(_ path: String) -> String {
        guard let h = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? h.close() }
        return String(decoding: (try? h.readToEnd()) ?? Data(), as: UTF8.self)
    }
}
