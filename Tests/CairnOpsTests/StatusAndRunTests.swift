import CairnOps
import XCTest

final class StatusAndRunTests: XCTestCase {
    /// A plan with one tree source (RPO 1h) in a fresh repository.
    func makePlan(_ h: OpsHarness) throws -> String {
        let repo = try h.initRepository("repo")
        try h.write("data/a.txt", String(repeating: "alpha\n", count: 1000))
        try h.write("data/sub/b.txt", "bravo\n")
        return try h.write("cairn.toml", """
        [repository.onsite]
        url = "\(repo)"
        password-file = "\(h.passFile)"
        keep = { last = 3 }
        scrub = { max-duration = "1m", max-age = "1d" }

        [source.files]
        kind = "tree"
        paths = ["\(h.dir)/data"]
        repository = "onsite"
        schedule = "every 1h"
        rpo = "1h"
        """)
    }

    func testStatusBreachesOnAnOldSnapshotAndRecoversAfterARun() throws {
        let h = try OpsHarness()
        let plan = try makePlan(h)
        let env = ["CAIRN_PLAN": plan]

        // Nothing yet: the RPO cannot hold.
        try h.run(["status"], env: env).check("status with no snapshot", 5)

        // A snapshot recorded two days ago: older than the 1h RPO.
        try h.run(["backup", h.dir + "/data", "--name", "data", "--time", "2020-01-01T00:00:00Z",
                   "--repo", h.dir + "/repo", "--password-file", h.passFile]).check("old backup")
        // (named "data": the plan's source is "files"; make the old one count by its snapshot name)
        try h.run(["backup", h.dir + "/data", "--name", "files", "--time", "2020-01-01T00:00:00Z",
                   "--repo", h.dir + "/repo", "--password-file", h.passFile]).check("old backup")
        let metrics = h.dir + "/cairn.prom"
        let old = try h.run(["status", "--json", "--metrics", metrics], env: env).check("status on an old snapshot", 5)
        let src = try XCTUnwrap((try old.json()["sources"] as? [[String: Any]])?.first)
        XCTAssertEqual(src["rpo_breached"] as? Bool, true, old.summary)
        XCTAssertGreaterThan(src["age_seconds"] as? Double ?? 0, 86_400 * 365)
        let prom = try String(contentsOfFile: metrics, encoding: .utf8)
        for name in ["cairn_source_last_success_timestamp_seconds{source=\"files\"", "cairn_source_rpo_seconds{", "cairn_source_rpo_objective_seconds{source=\"files\",kind=\"tree\",repository=\"onsite\"} 3600",
                     "cairn_repository_bytes{repository=\"onsite\"}", "cairn_status_breached 1"] {
            XCTAssertTrue(prom.contains(name), "\(name) missing from\n\(prom)")
        }
        let human = try h.run(["status"], env: env)
        XCTAssertTrue(human.out.contains("BREACH: source files: newest snapshot is"), human.summary)

        // Dry run: shows the backup, changes nothing.
        let dry = try h.run(["run", "--dry-run"], env: env).check("dry run")
        XCTAssertTrue(dry.out.contains("cairn backup \(h.dir)/data --name files"), dry.summary)
        try h.run(["status"], env: env).check("status after a dry run", 5)

        // The source is due (its newest snapshot predates the last hour slot): run backs it up, forgets, scrubs.
        let run = try h.run(["run", "--json"], env: env).check("run")
        let steps = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [[String: Any]])
        XCTAssertEqual(steps.map { $0["step"] as? String ?? "" }, ["backup", "forget", "scrub"], run.summary)
        XCTAssertEqual(Set(steps.map { $0["outcome"] as? String ?? "" }), ["ok"], run.summary)

        let fresh = try h.run(["status", "--json", "--metrics", metrics], env: env).check("status after a run", 0)
        let repo = try XCTUnwrap((try fresh.json()["repositories"] as? [[String: Any]])?.first)
        XCTAssertEqual((repo["last_scrub"] as? [String: Any])?["clean"] as? Bool, true, fresh.summary)
        XCTAssertTrue(try String(contentsOfFile: metrics, encoding: .utf8).contains("cairn_status_breached 0"))

        // Not due any more: a second run does nothing and exits 0.
        let again = try h.run(["run"], env: env).check("second run")
        XCTAssertTrue(again.out.contains("nothing is due"), again.summary)
    }

    func testOneRunAtATimeAndFailuresExitOne() throws {
        let h = try OpsHarness()
        let plan = try makePlan(h)
        let env = ["CAIRN_PLAN": plan]
        do {
            let held = try RunLock(path: h.dir + "/cache/cairn-run.lock", wait: 0)
            let busy = try h.run(["run", "--all"], env: env).check("a second run", 1)
            XCTAssertTrue(busy.err.contains("another cairn run is in progress (pid"), busy.summary)
            XCTAssertEqual(busy.err.split(separator: "\n").count, 1, busy.summary)
            _ = held
        }
        // A source that fails does not stop the others; the run exits 1.
        let text = try String(contentsOfFile: plan, encoding: .utf8) + """

        [source.broken]
        kind = "command"
        command = ["/bin/sh", "-c", "echo partial; exit 7"]
        repository = "onsite"
        """
        try h.write("cairn.toml", text)
        let r = try h.run(["run", "--all", "--backups-only"], env: env).check("run with a failing source", 1)
        XCTAssertTrue(r.out.contains("backup   files") && r.out.contains("ok"), r.summary)
        XCTAssertTrue(r.out.contains("backup   broken               failed"), r.summary)
    }
}
