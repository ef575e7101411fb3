import XCTest

final class ScheduleCommandTests: XCTestCase {
    func testDryRunUnitsPassSystemdAnalyzeAndInstallListRemove() throws {
        let h = try OpsHarness()
        let plan = try h.write("cairn.toml", """
        [repository.onsite]
        url = "\(h.dir)/repo"
        password-file = "\(h.passFile)"
        [source.db]
        kind = "pg-dump"
        dbname = "dbname=app"
        repository = "onsite"
        schedule = "daily 02:00"
        [source.node]
        kind = "tree"
        paths = ["/etc/hostname"]
        repository = "onsite"
        schedule = "weekly sun 04:00"
        [source.etc]
        kind = "tree"
        paths = ["/etc/hosts"]
        repository = "onsite"
        schedule = "every 15m"
        """)
        let dry = try h.run(["schedule", "install", "--dry-run", "--plan", plan]).check("dry run")
        XCTAssertTrue(dry.out.contains("OnCalendar=*-*-* 02:00:00\nOnCalendar=Sun *-*-* 04:00:00\nOnCalendar=*-*-* *:00/15:00"), dry.summary)
        XCTAssertTrue(dry.out.contains("ExecStart=\(h.cairn) run --plan \(plan)"), dry.summary)
        // A hung run (an archiver that never catches up) is stopped, never waited on forever (issue 14.4).
        XCTAssertTrue(dry.out.contains("TimeoutStartSec=6h\n"), dry.summary)
        XCTAssertFalse(dry.out.contains("infinity"), dry.summary)

        // Split the dry-run output into unit files and let systemd judge them.
        let units = h.dir + "/units"
        try FileManager.default.createDirectory(atPath: units, withIntermediateDirectories: true)
        var current: String? = nil, text = ""
        func flush() throws { if let c = current { try h.write(units + "/" + c, text) } }
        for line in dry.out.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# --- ") { try flush(); current = String(line.dropFirst(6).dropLast(4)); text = ""; continue }
            text += line + "\n"
        }
        try flush()
        if access("/usr/bin/systemd-analyze", X_OK) == 0 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
            p.arguments = ["verify", "--man=no", units + "/cairn-run.service", units + "/cairn-run.timer"]
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            // Only complaints about our units count (a container may lack other units systemd knows of).
            let ours = message.split(separator: "\n").filter { $0.contains("cairn-run") }
            XCTAssertEqual(p.terminationStatus, 0, message)
            XCTAssertTrue(ours.isEmpty, message)
        }

        // Install into a directory (no systemctl), list, remove.
        let dir = h.dir + "/systemd"
        try h.run(["schedule", "install", "--plan", plan, "--unit-dir", dir]).check("install")
        let list = try h.run(["schedule", "list", "--unit-dir", dir]).check("list")
        XCTAssertTrue(list.out.contains("OnCalendar=Sun *-*-* 04:00:00"), list.summary)
        try h.run(["schedule", "remove", "--unit-dir", dir]).check("remove")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/cairn-run.timer"))
    }

    /// Issue 14.4: no unit waits forever (oneshot services have no start timeout by default).
    func testContribUnitsHaveFiniteStartTimeouts() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("contrib/systemd").path
        let services = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".service") }
        XCTAssertFalse(services.isEmpty)
        for s in services {
            let text = try String(contentsOfFile: dir + "/" + s, encoding: .utf8)
            let line = text.split(separator: "\n").first { $0.hasPrefix("TimeoutStartSec=") }
            XCTAssertNotNil(line, "\(s) has a TimeoutStartSec=")
            XCTAssertFalse(line?.contains("infinity") ?? true, s)
        }
    }

    /// `--json` on install (dry run and real), list and remove: one JSON document each.
    func testScheduleJSON() throws {
        let h = try OpsHarness()
        let plan = try h.write("cairn.toml", """
        [repository.onsite]
        url = "\(h.dir)/repo"
        password-file = "\(h.passFile)"
        [source.etc]
        kind = "tree"
        paths = ["/etc/hosts"]
        repository = "onsite"
        schedule = "daily 02:00"
        """)
        let dir = h.dir + "/systemd"
        let dry = try h.run(["schedule", "install", "--dry-run", "--json", "--plan", plan, "--unit-dir", dir]).check("dry run").json()
        XCTAssertEqual(dry["dry_run"] as? Bool, true)
        let dryUnits = try XCTUnwrap(dry["units"] as? [[String: Any]])
        XCTAssertEqual(dryUnits.compactMap { $0["name"] as? String }.sorted(), ["cairn-run.service", "cairn-run.timer"])
        XCTAssertTrue(dryUnits.contains { ($0["text"] as? String)?.contains("OnCalendar=*-*-* 02:00:00") == true }, "\(dry)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "a dry run writes nothing")
        // Global-option order: --json before the command.
        let installed = try h.run(["--json", "schedule", "install", "--plan", plan, "--unit-dir", dir]).check("install").json()
        XCTAssertEqual(installed["dry_run"] as? Bool, false)
        XCTAssertEqual(Set((installed["units"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }),
                       [dir + "/cairn-run.service", dir + "/cairn-run.timer"])
        let list = try h.run(["schedule", "list", "--unit-dir", dir, "--json"]).check("list").json()
        let units = try XCTUnwrap(list["units"] as? [[String: Any]])
        XCTAssertEqual(units.count, 2)
        XCTAssertEqual(units.first { $0["name"] as? String == "cairn-run.timer" }?["on_calendar"] as? [String], ["*-*-* 02:00:00"])
        XCTAssertTrue((units.first { $0["name"] as? String == "cairn-run.service" }?["exec_start"] as? [String])?.first?.hasSuffix("run --plan \(plan)") == true, "\(list)")
        let removed = try h.run(["schedule", "remove", "--unit-dir", dir, "--json"]).check("remove").json()
        XCTAssertEqual((removed["removed"] as? [String])?.count, 2)
        let empty = try h.run(["schedule", "list", "--unit-dir", dir, "--json"]).check("list again").json()
        XCTAssertEqual((empty["units"] as? [Any])?.count, 0)
    }
}
