import CairnOps
import CairnPlan
import Foundation
import XCTest

/// `cairn run`'s orchestration with an injected environment: no process, no repository. What is due,
/// the order of backup, copy, forget, lock extension and scrub, and how each exit status becomes a step.
final class PlanRunTests: XCTestCase {
    /// Records every call; answers `cairn` from a table keyed by the first argument(s).
    final class FakeEnvironment: PlanRunEnvironment {
        struct Call: Equatable { let arguments: [String]; let repository: String; let extraEnvironment: [String: String]; let maintenance: Bool }
        var calls: [Call] = []
        var factsCalls: [Set<String>?] = []
        var recorded: [(name: String, extra: [String: String], repository: String)] = []
        var messages: [String] = []
        var answers: [String: ChildResult] = [:]
        var facts: (Set<String>?) -> [RepositoryFacts] = { _ in [] }
        var failRecord = false

        func cairn(_ arguments: [String], _ r: PlanRepository, extraEnvironment: [String: String], maintenance: Bool) throws -> ChildResult {
            calls.append(Call(arguments: arguments, repository: r.name, extraEnvironment: extraEnvironment, maintenance: maintenance))
            let key = arguments.first == "lock" ? "lock extend" : arguments[0]
            guard let answer = answers[key] else { throw OpsError.failed("no such program in this test: \(key)") }
            return answer
        }
        func facts(only names: Set<String>?) async -> [RepositoryFacts] { factsCalls.append(names); return facts(names) }
        func record(name: String, extra: [String: String], in r: PlanRepository) async throws {
            if failRecord { throw OpsError.failed("store refused") }
            recorded.append((name, extra, r.name))
        }
        func info(_ message: String) { messages.append(message) }
    }

    private let now = Date(timeIntervalSince1970: 1_700_000_000)
    private var utc: Calendar { var c = Calendar(identifier: .gregorian); c.timeZone = TimeZone(identifier: "UTC")!; return c }

    private func plan() throws -> Plan {
        try PlanDecoder.decode("""
            [repository.onsite]
            url = "/backups/onsite"
            password-file = "/etc/cairn/onsite.pass"
            keep = { last = 3 }
            scrub = { max-duration = "1m" }

            [repository.offsite]
            url = "/backups/offsite"
            password-file = "/etc/cairn/offsite.pass"
            copy-from = "onsite"
            scrub = { enabled = false }

            [source.files]
            kind = "tree"
            paths = ["/srv/files"]
            repository = "onsite"
            schedule = "every 1h"
            tags = ["hourly"]

            [source.nightly]
            kind = "tree"
            paths = ["/srv/nightly"]
            repository = "onsite"
            schedule = "daily 02:00"

            [source.wal]
            kind = "pg-wal"
            repository = "onsite"
            """, file: "cairn.toml")
    }

    /// onsite: `files` two hours old (and, after the backup, new), `nightly` a minute old; offsite: the old `files`.
    private func facts(afterBackup: Bool) -> (Set<String>?) -> [RepositoryFacts] {
        let t = now.timeIntervalSince1970
        var onsite = [OpsSnapshot(id: "f1", name: "files", time: t - 7200), OpsSnapshot(id: "n1", name: "nightly", time: t - 60)]
        if afterBackup { onsite.append(OpsSnapshot(id: "f2", name: "files", time: t)) }
        let all = [RepositoryFacts(name: "onsite", snapshots: onsite), RepositoryFacts(name: "offsite", snapshots: [OpsSnapshot(id: "f1", name: "files", time: t - 7200)])]
        return { names in all.filter { names?.contains($0.name) ?? true } }
    }

    func testDueBackupThenCopyForgetAndScrubInOrder() async throws {
        let env = FakeEnvironment()
        env.facts = { [unowned env] names in self.facts(afterBackup: env.calls.contains { $0.arguments.first == "backup" })(names) }
        env.answers = [
            "backup": ChildResult(argv: [], status: 0, stdout: #"{"snapshot_id":"0123456789abcdef"}"#, seconds: 2),
            "copy": ChildResult(argv: [], status: 0, stdout: #"{"copied":[{}],"skipped":[],"bytes_added":2048}"#),
            "forget": ChildResult(argv: [], status: 0, stdout: #"{"removed":["a","b"]}"#),
            "scrub": ChildResult(argv: [], status: 4, stderr: "checked\ncairn: error: damage found: 1 snapshot(s) cannot be fully restored (exit 4)\n"),
        ]
        let p = try plan()
        let steps = await PlanRun(plan: p, options: .init(), environment: env).run(p.sources, now: now, calendar: utc)

        XCTAssertEqual(steps.map { "\($0.step) \($0.target) \($0.outcome.rawValue)" },
                       ["backup files ok", "copy offsite ok", "forget onsite ok", "scrub onsite failed"])
        XCTAssertEqual(steps[0].detail, "snapshot 01234567")
        XCTAssertEqual(steps[1].detail, "from onsite: 1 snapshot(s) copied, 0 already there, 2.00 KiB added")
        XCTAssertEqual(steps[2].detail, "2 snapshot(s) removed")
        XCTAssertEqual(steps[3].detail, "damage found: damage found: 1 snapshot(s) cannot be fully restored (exit 4)")
        XCTAssertEqual(RunStep.exitCode(steps), 1)

        // Only the due source was backed up (nightly is fresh, pg-wal is never run), with its tags and --wait-lock.
        XCTAssertEqual(env.calls[0].arguments, ["backup", "/srv/files", "--name", "files", "--tag", "hourly", "--wait-lock", "10m", "--json"])
        // The copy runs against the source with the destination's passphrase file in the environment, for the new snapshot only.
        XCTAssertEqual(env.calls[1], .init(arguments: ["copy", "--to", "/backups/offsite", "--wait-lock", "10m", "--json", "n1", "f2"], repository: "onsite",
                                          extraEnvironment: ["CAIRN_TO_PASSWORD_FILE": "/etc/cairn/offsite.pass"], maintenance: false))
        XCTAssertEqual(env.calls[2], .init(arguments: ["forget", "--keep-last", "3", "--prune", "--wait-lock", "10m", "--json"], repository: "onsite",
                                          extraEnvironment: [:], maintenance: true))
        XCTAssertEqual(env.calls[3].arguments.first, "scrub")
        XCTAssertFalse(env.calls[3].maintenance)
        XCTAssertEqual(env.calls.count, 4, "offsite has no keep rules and scrub disabled: no forget, no scrub")
        // The copy read the two repositories again after the backups.
        XCTAssertEqual(env.factsCalls, [nil, ["onsite", "offsite"]])
        // The scrub's result is recorded: it ran, and it was not clean.
        XCTAssertEqual(env.recorded.map(\.name), [OpsRecord.scrubName])
        XCTAssertEqual(env.recorded.first?.extra["cairn.scrub.clean"], "false")
        XCTAssertEqual(env.recorded.first?.extra["cairn.scrub.ran"], "true")
        XCTAssertEqual(env.messages, ["backing up files (tree) into onsite...", "copying onsite into offsite...", "forget onsite...", "scrub onsite..."])
    }

    func testDryRunPlansEverythingAndRunsNothing() async throws {
        let env = FakeEnvironment()
        env.facts = facts(afterBackup: false)
        let p = try plan()
        let steps = await PlanRun(plan: p, options: .init(named: true, dryRun: true), environment: env).run(p.sources, now: now, calendar: utc)
        XCTAssertEqual(steps.map { "\($0.step) \($0.target) \($0.outcome.rawValue)" },
                       ["backup files planned", "backup nightly planned", "backup wal skipped", "copy offsite planned", "forget onsite planned", "scrub onsite planned"])
        XCTAssertEqual(steps[5].detail, "cairn scrub --read-data --max-duration 60s --max-age 604800s --json")
        XCTAssertTrue(env.calls.isEmpty)
        XCTAssertTrue(env.recorded.isEmpty)
        XCTAssertEqual(env.factsCalls.count, 1, "a dry run reads the repositories once")
        XCTAssertEqual(RunStep.exitCode(steps), 0)
    }

    func testExitStatusesBecomeOutcomes() async throws {
        let p = try plan()
        let files = try XCTUnwrap(p.source(named: "files"))
        func backup(_ status: Int32, stderr: String = "") async -> RunStep {
            let env = FakeEnvironment()
            env.facts = facts(afterBackup: false)
            env.answers = ["backup": ChildResult(argv: [], status: status, stderr: stderr)]
            return await PlanRun(plan: p, options: .init(named: true, backupsOnly: true, verbose: false), environment: env).run([files], now: now, calendar: utc)[0]
        }
        let warned = await backup(3, stderr: "cairn: warning: 2 item(s) are not in the snapshot\n")
        XCTAssertEqual(warned.outcome, .warning)
        XCTAssertEqual(warned.detail, "cairn: warning: 2 item(s) are not in the snapshot")
        let failed = await backup(1, stderr: "cairn: error: repository is locked\n")
        XCTAssertEqual(failed.outcome, .failed)
        XCTAssertEqual(failed.detail, "repository is locked")
        let env = FakeEnvironment()
        let unrunnable = await PlanRun(plan: p, options: .init(named: true, backupsOnly: true), environment: env).run([files], now: now, calendar: utc)
        XCTAssertEqual(unrunnable.map(\.outcome), [.failed])
        XCTAssertEqual(unrunnable[0].detail, "no such program in this test: backup")
    }

    func testNothingDueIsOneSkippedStepAndARefusedRecordIsAWarning() async throws {
        let p = try plan()
        let env = FakeEnvironment()
        let fresh = [OpsSnapshot(id: "f", name: "files", time: now.timeIntervalSince1970), OpsSnapshot(id: "n", name: "nightly", time: now.timeIntervalSince1970)]
        env.facts = { _ in [RepositoryFacts(name: "onsite", snapshots: fresh), RepositoryFacts(name: "offsite", snapshots: fresh)] }
        let idle = await PlanRun(plan: p, options: .init(), environment: env).run(p.sources, now: now, calendar: utc)
        XCTAssertEqual(idle.map { "\($0.step) \($0.outcome.rawValue) \($0.detail)" }, ["- skipped nothing is due"])
        XCTAssertTrue(env.calls.isEmpty)

        let busy = FakeEnvironment()
        busy.facts = facts(afterBackup: false)
        busy.failRecord = true
        busy.answers = ["backup": ChildResult(argv: [], status: 0), "copy": ChildResult(argv: [], status: 1, stderr: "cairn: error: offsite unreachable\n"),
                        "forget": ChildResult(argv: [], status: 0), "scrub": ChildResult(argv: [], status: 0, stdout: #"{"packs_read":3,"snapshots_checked":2}"#)]
        let steps = await PlanRun(plan: p, options: .init(), environment: busy).run(p.sources, now: now, calendar: utc)
        XCTAssertEqual(steps.map { "\($0.step) \($0.target) \($0.outcome.rawValue)" },
                       ["backup files ok", "copy offsite failed", "forget onsite ok", "scrub onsite ok", "record onsite warning"])
        XCTAssertEqual(steps[0].detail, "done")
        XCTAssertEqual(steps[1].detail, "from onsite: offsite unreachable")
        XCTAssertEqual(steps[3].detail, "clean; 3 packs read, 2 snapshots checked")
        XCTAssertEqual(steps[4].detail, "could not record the scrub result: store refused")
        XCTAssertEqual(RunStep.exitCode(steps), 1)
    }
}
