import Foundation
import XCTest

/// `cairn report --html` from a real repository with a few backups, a drill and a scrub record.
final class ReportTests: XCTestCase {
    /// A repository with three backups of a growing tree at different times, one with a hostile name,
    /// a drill and a scrub recorded; returns the report's path and text.
    func makeReport(_ h: OpsHarness) throws -> (path: String, html: String, env: [String: String]) {
        let repo = try h.initRepository("repo")
        let plan = try h.write("cairn.toml", """
        [repository.onsite]
        url = "\(repo)"
        password-file = "\(h.passFile)"
        scrub = { max-duration = "1m", max-age = "1d" }

        [source.files]
        kind = "tree"
        paths = ["\(h.dir)/data"]
        repository = "onsite"
        rpo = "1h"
        rto = "15m"
        """)
        let env = ["CAIRN_PLAN": plan]
        let common = ["--repo", repo, "--password-file", h.passFile]
        for (i, day) in ["2026-01-01", "2026-01-02", "2026-01-03"].enumerated() {
            try h.write("data/part\(i).txt", String(repeating: "line \(i) of the growing tree\n", count: 2000 * (i + 1)))
            try h.run(["backup", h.dir + "/data", "--name", "files", "--time", day + "T02:00:00Z"] + common).check("backup \(i)")
        }
        try h.run(["backup", h.dir + "/data", "--name", "evil<script>&\"'", "--time", "2026-01-02T03:00:00Z"] + common).check("hostile name")
        // A run records a scrub; a drill records the measured RTO.
        try h.run(["run", "--source", "files"], env: env).check("run")
        try h.run(["drill", "--source", "files"], env: env).check("drill")
        let out = h.dir + "/report.html"
        try h.run(["report", "--html", out], env: env).check("report")
        return (out, try String(contentsOfFile: out, encoding: .utf8), env)
    }

    func testReportIsSelfContainedWithChartsAndValues() throws {
        let h = try OpsHarness()
        let (_, html, env) = try makeReport(h)
        // Charts: two objective bar charts, the ratios, two per repository, a scrub timeline.
        XCTAssertGreaterThanOrEqual(html.components(separatedBy: "<svg").count - 1, 6, html)
        for needle in ["Recovery point: newest snapshot", "Recovery time: last drill vs RTO", "Dedup and compression ratios",
                       "onsite: stored growth", "onsite: size of each snapshot", "onsite: scrubs",
                       "<td>files</td>", "<td>1h</td>", "<td>15m</td>", "class=\"ok\">passed</td>", "class=\"ok\">clean</td>",
                       "class=\"series\"", "class=\"objective\"", "class=\"event\""] {
            XCTAssertTrue(html.contains(needle), "\(needle) missing")
        }
        // The ratios are the ones `cairn stats` prints.
        let stats = try h.run(["stats", "--json", "--repo", h.dir + "/repo", "--password-file", h.passFile]).check("stats").json()
        for key in ["dedup_ratio", "compression_ratio"] {
            let v = try XCTUnwrap(stats[key] as? Double)
            XCTAssertTrue(html.contains("<td class=\"ratio\">\(String(format: "%.2f", v))</td>"), "\(key) \(v) missing")
        }
        // User input is escaped; nothing is fetched.
        XCTAssertTrue(html.contains("evil&lt;script&gt;&amp;&quot;&#39;"), "escaped snapshot name missing")
        XCTAssertFalse(html.contains("<script"), "unescaped markup")
        for banned in ["http://", "https://", "src=", "href=", "@import", "url("] {
            XCTAssertFalse(html.lowercased().contains(banned), "\(banned) in a self-contained page")
        }
        // An unwritable destination is one line, exit 1.
        let bad = try h.run(["report", "--html", h.dir + "/no/such/dir/r.html"], env: env).check("unwritable report", 1)
        XCTAssertEqual(bad.err.split(separator: "\n").count, 1, bad.summary)
    }

    /// `report --json`: the page's facts as one JSON document, with or without the page.
    func testReportJSON() throws {
        let h = try OpsHarness()
        let (_, _, env) = try makeReport(h)
        let r = try h.run(["report", "--json"], env: env).check("report --json")
        let doc = try r.json()
        XCTAssertNil(doc["html"] as? String)
        let status = try XCTUnwrap(doc["status"] as? [String: Any])
        let sources = try XCTUnwrap(status["sources"] as? [[String: Any]])
        XCTAssertEqual(sources.first?["name"] as? String, "files")
        let repos = try XCTUnwrap(doc["repositories"] as? [[String: Any]])
        XCTAssertEqual(repos.count, 1)
        let stats = try h.run(["stats", "--json", "--repo", h.dir + "/repo", "--password-file", h.passFile]).check("stats").json()
        XCTAssertEqual(try XCTUnwrap(repos[0]["dedup_ratio"] as? Double), try XCTUnwrap(stats["dedup_ratio"] as? Double), accuracy: 1e-9)
        let backups = try XCTUnwrap(repos[0]["backups"] as? [[String: Any]])
        XCTAssertEqual(backups.filter { $0["name"] as? String == "files" }.count, 4, "three dated backups and the run's: \(backups)")
        XCTAssertTrue(backups.contains { $0["time"] as? String == "2026-01-02T02:00:00Z" }, "\(backups)")
        let drills = try XCTUnwrap(doc["drills"] as? [[String: Any]])
        XCTAssertEqual(drills.count, 1)
        XCTAssertEqual(drills.first?["ok"] as? Bool, true)
        XCTAssertEqual(drills.first?["source"] as? String, "files")
        XCTAssertTrue((drills.first?["time"] as? String)?.hasSuffix("Z") == true)
        let scrubs = try XCTUnwrap(doc["scrubs"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(scrubs.count, 1)
        // Both at once: the page is written and the document names it.
        let out = h.dir + "/both.html"
        let both = try h.run(["report", "--html", out, "--json"], env: env).check("both").json()
        XCTAssertEqual(both["html"] as? String, out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out))
        // Neither: a usage error.
        try h.run(["report"], env: env).check("nothing asked", 2)
    }

    /// Renders the page in headless Chromium when it is installed (never installed for CI).
    func testReportRendersInHeadlessChromium() throws {
        let candidates: [String] = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        guard let chromium = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("chromium is not installed: the rendering check is optional (Docs/operations.md)")
        }
        let h = try OpsHarness()
        let (path, _, _) = try makeReport(h)
        let png = h.dir + "/report.png"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium)
        p.arguments = ["--headless", "--disable-gpu", "--no-sandbox", "--user-data-dir=\(h.dir)/chromium",
                       "--window-size=1200,2400", "--screenshot=\(png)", "file://\(path)"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let size = (try FileManager.default.attributesOfItem(atPath: png)[.size] as? NSNumber)?.intValue ?? 0
        XCTAssertGreaterThan(size, 20_000, "screenshot too small for a page of charts")
        let head = try XCTUnwrap(FileManager.default.contents(atPath: png)).prefix(8)
        XCTAssertEqual(Array(head), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }
}
