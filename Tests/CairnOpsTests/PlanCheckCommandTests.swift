import XCTest

final class PlanCheckCommandTests: XCTestCase {
    func testValidPlanAndOneLineErrors() throws {
        let h = try OpsHarness()
        let good = try h.write("cairn.toml", """
        [repository.onsite]
        url = "\(h.dir)/repo"
        password-file = "\(h.passFile)"
        keep = { daily = 7 }
        [source.etc]
        kind = "tree"
        paths = ["/etc/hostname"]
        repository = "onsite"
        schedule = "daily 02:00"
        rpo = "26h"
        """)
        let ok = try h.run(["plan", "check", "--plan", good]).check("plan check")
        XCTAssertTrue(ok.out.contains("ok: 1 repository, 1 source(s)"), ok.summary)
        // CAIRN_PLAN works too.
        try h.run(["plan", "check"], env: ["CAIRN_PLAN": good]).check("plan check via CAIRN_PLAN")

        let bad = try h.write("bad.toml", try String(contentsOfFile: good, encoding: .utf8).replacingOccurrences(of: "\"26h\"", with: "\"26x\""))
        let r = try h.run(["plan", "check", "--plan", bad]).check("bad plan", 1)
        XCTAssertTrue(r.err.contains("cairn: error: \(bad):10: source.etc.rpo: \"26x\" is not a duration (like 26h"), r.summary)
        let missing = try h.run(["plan", "check", "--plan", h.dir + "/nope.toml"]).check("missing plan", 1)
        XCTAssertEqual(missing.err.split(separator: "\n").count, 1, missing.summary)
    }
}
