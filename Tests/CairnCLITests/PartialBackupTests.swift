import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A backup that could not read its sources: nothing saved is a failure with
/// no snapshot; a snapshot missing a source is marked and `status` does not
/// count it as a recovery point.
final class PartialBackupTests: CLITestCase {
    /// A runner that cannot read mode-000 files: as root, `nobody` through
    /// setpriv, with the test's directory handed to nobody.
    private func unprivilegedRunner() throws -> CLI {
        var runner = cli!
        guard Posix.isRoot else { return runner }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            throw XCTSkip("running as root without /usr/bin/setpriv: cannot make a file unreadable")
        }
        runner.launcher = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        let probe = try runner.run(["--version"])
        guard probe.status == 0 else { throw XCTSkip("cannot run cairn as uid 65534: \(probe.summary)") }
        return runner
    }

    func testBackupOfOnlyUnreadableSourcesFailsAndSavesNothing() throws {
        let runner = try unprivilegedRunner()
        let secret = tmp.appendingPathComponent("secret.txt")
        try write(Data("secret".utf8), to: secret)
        let closed = try makeDir("closed")
        try write(Data("inside".utf8), to: closed.appendingPathComponent("inside.txt"))
        let readable = try makeDir("data")
        try write(Data("fine".utf8), to: readable.appendingPathComponent("a.txt"))
        if Posix.isRoot { try Self.shell("chown -R 65534:65534 \(Self.quote(tmp.path))") }
        try Posix.chmod(secret.path, 0)
        try Posix.chmod(closed.path, 0)
        XCTAssertEqual(try runner.run(["init"]).status, 0)

        // The only argument unreadable: exit 1, one line naming it, no snapshot.
        for args in [[secret.path], [closed.path], [secret.path, closed.path]] {
            let r = try runner.run(["backup"] + args)
            XCTAssertEqual(r.status, 1, r.summary)
            XCTAssertEqual(r.errLines.count, 1, r.summary)
            XCTAssertTrue(r.err.hasPrefix("cairn: error: nothing was backed up, no snapshot was saved"), r.summary)
            for a in args { XCTAssertTrue(r.err.contains(a), r.summary) }
            let snaps = try runner.run(["snapshots", "--json"])
            XCTAssertEqual(try snaps.jsonArray().count, 0, snaps.summary)
        }
        // With --json too: no result object on standard output.
        let j = try runner.run(["backup", "--json", secret.path])
        XCTAssertEqual(j.status, 1, j.summary)
        XCTAssertTrue(j.stdout.isEmpty, j.summary)

        // One of two unreadable: a snapshot marked as missing a source, exit 3.
        let partial = try runner.run(["backup", "--json", "--name", "files", readable.path, secret.path])
        XCTAssertEqual(partial.status, 3, partial.summary)
        XCTAssertTrue(partial.err.contains("1 of the 2 paths could not be read at all"), partial.summary)
        XCTAssertEqual(try partial.jsonObject().int("skipped"), 1)
        let snaps = try runner.run(["snapshots", "--json"]).jsonArray()
        XCTAssertEqual(snaps.count, 1)
        let extra = snaps.first?["extra"] as? [String: String]
        XCTAssertEqual(extra?["sources_missing"], "1", "\(snaps)")
        XCTAssertEqual(extra?["skipped"], "1", "\(snaps)")

        // status: the partial snapshot is no recovery point for the source.
        let plan = tmp.appendingPathComponent("cairn.toml")
        let pass = tmp.appendingPathComponent("pass")
        try write(Data("\(password)\n".utf8), to: pass)
        try write(Data("""
        [repository.onsite]
        url = "\(repo.path)"
        password-file = "\(pass.path)"
        keep = { last = 3 }

        [source.files]
        kind = "tree"
        paths = ["\(readable.path)", "\(secret.path)"]
        repository = "onsite"
        schedule = "every 1h"
        rpo = "1h"
        """.utf8), to: plan)
        if Posix.isRoot { try Self.shell("chown -R 65534:65534 \(Self.quote(tmp.path))") }
        let status = try runner.run(["status", "--json"], env: ["CAIRN_PLAN": plan.path, "CAIRN_PASSWORD": nil])
        XCTAssertEqual(status.status, 5, status.summary)
        let src = try XCTUnwrap((try status.jsonObject()["sources"] as? [[String: Any]])?.first)
        XCTAssertEqual(src["snapshots"] as? Int, 0, status.summary)
        XCTAssertEqual(src["incomplete_snapshots"] as? Int, 1, status.summary)
        XCTAssertEqual(src["rpo_breached"] as? Bool, true, status.summary)
        let human = try runner.run(["status"], env: ["CAIRN_PLAN": plan.path, "CAIRN_PASSWORD": nil])
        XCTAssertTrue(human.out.contains("1 snapshot(s) missing a whole source are not counted"), human.summary)

        // Once both sources are readable the snapshot counts, and a skipped file inside one is noted, not a breach.
        try Posix.chmod(secret.path, 0o644)
        try write(Data("locked".utf8), to: readable.appendingPathComponent("locked.txt"))
        if Posix.isRoot { try Self.shell("chown -R 65534:65534 \(Self.quote(tmp.path))") }
        try Posix.chmod(readable.appendingPathComponent("locked.txt").path, 0)
        let inner = try runner.run(["backup", "--name", "files", readable.path, secret.path])
        XCTAssertEqual(inner.status, 3, inner.summary)
        let after = try runner.run(["status", "--json"], env: ["CAIRN_PLAN": plan.path, "CAIRN_PASSWORD": nil])
        XCTAssertEqual(after.status, 0, after.summary)
        let src2 = try XCTUnwrap((try after.jsonObject()["sources"] as? [[String: Any]])?.first)
        XCTAssertEqual(src2["snapshots"] as? Int, 1, after.summary)
        XCTAssertEqual(src2["newest_skipped"] as? Int, 1, after.summary)
        let human2 = try runner.run(["status"], env: ["CAIRN_PLAN": plan.path, "CAIRN_PASSWORD": nil])
        XCTAssertTrue(human2.out.contains("the newest snapshot left out 1 unreadable item(s)"), human2.summary)
    }
}
