import CairnOps
import CairnPlan
import XCTest

/// `copy-from` in a plan: `cairn run` copies new snapshots into the replica after the backups.
final class ReplicationTests: XCTestCase {
    func testRunCopiesNewSnapshotsIntoTheReplica() throws {
        let h = try OpsHarness()
        let onsite = try h.initRepository("onsite")
        let offPass = try h.write("offsite.pass", "another passphrase\n", mode: 0o600)
        let offsite = h.dir + "/offsite"
        try h.run(["init", "--repo", offsite, "--password-file", offPass]).check("init offsite")
        try h.write("data/a.txt", String(repeating: "alpha\n", count: 3000))
        let planText = """
        [repository.onsite]
        url = "\(onsite)"
        password-file = "\(h.passFile)"
        scrub = { enabled = false }

        [repository.offsite]
        url = "\(offsite)"
        password-file = "\(offPass)"
        copy-from = "onsite"
        keep = { last = 5 }
        scrub = { max-duration = "1m" }

        [source.files]
        kind = "tree"
        paths = ["\(h.dir)/data"]
        repository = "onsite"
        """
        let plan = try h.write("cairn.toml", planText)
        let env = ["CAIRN_PLAN": plan]
        let check = try h.run(["plan", "check"], env: env).check("plan check accepts copy-from")
        XCTAssertTrue(check.out.contains("repository offsite: \(offsite); keep last 5; copy from onsite"), check.summary)

        let dry = try h.run(["run", "--all", "--dry-run"], env: env).check("dry run")
        XCTAssertTrue(dry.out.contains("copy     offsite") && dry.out.contains("cairn copy --to \(offsite)"), dry.summary)

        func steps(_ r: OpsHarness.Result) throws -> [[String: Any]] {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]], r.summary)
        }
        func offsiteNames() throws -> [String] {
            let r = try h.run(["snapshots", "--json", "--repo", offsite, "--password-file", offPass]).check("offsite snapshots")
            let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]], r.summary)
            return list.compactMap { $0["name"] as? String }
        }

        // Backups, then the copy, then the replica's forget and scrub (it received snapshots).
        let first = try h.run(["run", "--all", "--json"], env: env).check("first run")
        let s1 = try steps(first)
        XCTAssertEqual(s1.map { "\($0["step"] ?? "") \($0["target"] ?? "")" }, ["backup files", "copy offsite", "forget offsite", "scrub offsite"], first.summary)
        XCTAssertEqual(Set(s1.map { $0["outcome"] as? String ?? "" }), ["ok"], first.summary)
        XCTAssertTrue((s1[1]["detail"] as? String ?? "").hasPrefix("from onsite: 1 snapshot(s) copied"), first.summary)
        XCTAssertEqual(try offsiteNames().filter { !$0.hasPrefix("cairn-") }, ["files"])

        // A second backup: only what is new is copied.
        try h.write("data/b.txt", "bravo\n")
        let second = try h.run(["run", "--all"], env: env).check("second run")
        XCTAssertTrue(second.out.contains("from onsite: 1 snapshot(s) copied"), second.summary)
        XCTAssertEqual(try offsiteNames().filter { $0 == "files" }.count, 2)

        // The replica's passphrase is wrong: the copy fails in one line, the run exits 1, the backup still ran.
        try h.write("offsite.pass", "wrong passphrase\n", mode: 0o600)
        let bad = try h.run(["run", "--all", "--json"], env: env).check("run with a broken replica", 1)
        let s3 = try steps(bad)
        let copy = try XCTUnwrap(s3.first { $0["step"] as? String == "copy" }, bad.summary)
        XCTAssertEqual(copy["outcome"] as? String, "failed", bad.summary)
        XCTAssertFalse((copy["detail"] as? String ?? "").contains("\n"), bad.summary)
        XCTAssertEqual(s3.first?["outcome"] as? String, "ok", bad.summary)
    }

    func testCopiesRunSourcesFirstAndNeverResurrectForgottenSnapshots() throws {
        let plan = try PlanDecoder.decode("""
        [repository.cloud]
        url = "/r/cloud"
        password-file = "/p"
        copy-from = "offsite"
        [repository.offsite]
        url = "/r/offsite"
        password-file = "/p"
        copy-from = "onsite"
        [repository.onsite]
        url = "/r/onsite"
        password-file = "/p"
        """, file: "p.toml")
        XCTAssertEqual(Replication.order(plan).map(\.name), ["offsite", "cloud"])

        let src = RepositoryFacts(name: "onsite", snapshots: [
            OpsSnapshot(id: "old", name: "db", time: 100), OpsSnapshot(id: "kept", name: "db", time: 200),
            OpsSnapshot(id: "new", name: "db", time: 300), OpsSnapshot(id: "other", name: "etc", time: 50),
            OpsSnapshot(id: "scrub", name: OpsRecord.scrubName, time: 400, tags: [OpsRecord.tag])])
        let dst = RepositoryFacts(name: "offsite", snapshots: [OpsSnapshot(id: "x", name: "db", time: 200)])
        XCTAssertEqual(Replication.newSnapshots(source: src, destination: dst), ["other", "new"])
        XCTAssertNil(Replication.newSnapshots(source: src, destination: RepositoryFacts(name: "offsite", snapshots: nil)))
    }
}
