import CairnFormat
import CairnEngine
import CairnRepository
import CairnOps
import CairnPlan
import CairnStorage
import CairnTestSupport
import XCTest

/// The one registration point of source kinds (issue 19): every kind has one adapter, `cairn run`
/// takes its backup command from it, and `PlanDrill` runs its drill, here with an injected
/// environment instead of processes.
final class SourceRegistryTests: XCTestCase {
    private static let planText = """
        [repository.onsite]
        url = "/backups/cairn"
        password-file = "/etc/cairn/onsite.pass"

        [source.etc]
        kind = "tree"
        repository = "onsite"
        paths = ["/etc"]
        tags = ["daily"]

        [source.ledger]
        kind = "command"
        repository = "onsite"
        command = ["/usr/bin/ledger-export", "--all"]

        [source.wal]
        kind = "pg-wal"
        repository = "onsite"

        [source.main]
        kind = "pg-basebackup"
        repository = "onsite"
        dbname = "host=/run/postgresql"
        """

    /// A re-chunking copy of a snapshot written before backups recorded their chunker profile uses the
    /// profile its source declares (issue 19: the Copier itself no longer knows any source's keys).
    func testOldSnapshotsGetTheProfileTheirSourceDeclares() throws {
        let config = RepositoryConfig(repositoryID: [UInt8](repeating: 1, count: 32), createdNanos: 0)
        let root = try XCTUnwrap(ChunkID(bytes: [UInt8](repeating: 7, count: 32)))
        func profile(_ kind: String, _ extra: [String: String]) -> String {
            let s = Snapshot(timeNanos: 0, name: "n", host: "h", user: "u", tags: [], paths: ["-"], sourceKind: .init(rawValue: kind), root: root, extra: extra)
            return UnrecordedProfile.profile(of: s, rules: SourceRegistry.unrecordedProfiles, in: config)
        }
        XCTAssertEqual(profile("stream", ["pg-wal-file": "000000010000000000000001"]), "wal")
        XCTAssertEqual(profile("stream", ["redis.keys": "3", "redis.rdb_version": "11"]), "rdb")
        XCTAssertEqual(profile("stream", ["pg-kind": "dump"]), "dump")
        XCTAssertEqual(profile("tree", ["pg-kind": "base"]), "file")
        XCTAssertEqual(profile("stream", ["chunker-profile": "wal", "redis.keys": "1"]), "wal", "a recorded profile wins")
    }

    func testEveryKindHasExactlyOneAdapterAndItsDeclarationIsThePlans() {
        let kinds: [SourceKind] = [.tree, .command, .redis, .pgDump, .pgBaseBackup, .pgWAL]
        XCTAssertEqual(Set(SourceRegistry.adapters.map(\.kind)), Set(kinds))
        for kind in kinds {
            XCTAssertEqual(SourceRegistry.adapters.filter { $0.kind == kind }.count, 1, kind.rawValue)
            XCTAssertEqual(SourceRegistry.adapter(for: kind).kind, kind)
        }
        // The plan decoder knows exactly the registered kinds, each by its adapter's declaration.
        XCTAssertEqual(SourceRegistry.planCapabilities.sources.map(\.kind), SourceRegistry.adapters.map(\.kind))
        XCTAssertThrowsError(try PlanDecoder.decode(Self.planText.replacingOccurrences(of: "kind = \"pg-wal\"", with: "kind = \"tape\""),
                                                    file: "cairn.toml")) { e in
            XCTAssertTrue("\(e)".contains("\"tape\" is not a source kind (tree | command | redis | pg-dump | pg-basebackup | pg-wal)"), "\(e)")
        }
    }

    func testBackupCommandsAndWhatIsNotRunOrDrilled() throws {
        let plan = try PlanDecoder.decode(Self.planText, file: "cairn.toml")
        let etc = try XCTUnwrap(plan.source(named: "etc")), wal = try XCTUnwrap(plan.source(named: "wal"))
        XCTAssertEqual(SourceRegistry.adapter(for: .tree).backup(etc, waitLock: "7m"),
                       .command(["backup", "/etc", "--name", "etc", "--tag", "daily", "--wait-lock", "7m", "--json"]))
        let ledger = try XCTUnwrap(plan.source(named: "ledger"))
        XCTAssertEqual(try BackupInvocation.arguments(for: ledger).get(),
                       ["backup", "--stdin-from-command", "--name", "ledger", "--wait-lock", "10m", "--json", "--", "/usr/bin/ledger-export", "--all"])
        XCTAssertEqual(SourceRegistry.adapter(for: .pgWAL).backup(wal, waitLock: "10m"), .notRun("pg-wal is filled by archive_command (cairn wal-push)"))
        XCTAssertThrowsError(try BackupInvocation.arguments(for: wal).get())

        let drills = PlanDrill(environment: FakeDrillEnvironment(plan: plan, repo: nil, restored: nil))
        XCTAssertNil(drills.skipReason(etc))
        XCTAssertEqual(drills.skipReason(wal), "covered by the base backup + WAL replay drill of main")
    }

    /// A command source's drill restores the stream and compares its length: passes on the right
    /// length, fails on a short one and on a failing restore, naming what failed.
    func testCommandDrillComparesTheRestoredLength() async throws {
        let dir = try makeTempDir("registry")
        defer { try? FileManager.default.removeItem(at: dir) }
        let plan = try PlanDecoder.decode(Self.planText + "\n[drill]\nscratch-dir = \"\(dir.path)\"\n", file: "cairn.toml")
        let ledger = try XCTUnwrap(plan.source(named: "ledger")), onsite = try XCTUnwrap(plan.repository(named: "onsite"))
        var options = Repository.CreateOptions()
        options.scrypt = .init(logN: 10, r: 8, p: 1)
        let repo = try await Repository.create(store: MemoryStore(), passphrase: Array("pw".utf8), cacheBase: dir.path + "/cache", options: options)
        let input = dir.path + "/ledger.out"
        let bytes = RandomBytes.make(70_000, seed: 9)
        XCTAssertTrue(FileManager.default.createFile(atPath: input, contents: Data(bytes)))
        let fd = open(input, O_RDONLY)
        defer { close(fd) }
        let backup = try await Archiver(repo: repo, options: BackupOptions(name: "ledger")).backup(streamFD: fd, label: "ledger")

        let good = await PlanDrill(environment: FakeDrillEnvironment(plan: plan, repo: repo, restored: bytes)).drill(ledger, from: onsite)
        XCTAssertTrue(good.ok, good.message)
        XCTAssertEqual(good.snapshot, backup.snapshotID)
        XCTAssertEqual(good.phases.map(\.name), ["restore", "compare"])
        XCTAssertTrue(good.message.contains("restored, every chunk verified"), good.message)

        let short = await PlanDrill(environment: FakeDrillEnvironment(plan: plan, repo: repo, restored: Array(bytes.prefix(100)))).drill(ledger, from: onsite)
        XCTAssertFalse(short.ok)
        XCTAssertEqual(short.message, "compare: restored 100 bytes, the snapshot recorded 70000")

        let failing = await PlanDrill(environment: FakeDrillEnvironment(plan: plan, repo: repo, restored: nil)).drill(ledger, from: onsite)
        XCTAssertFalse(failing.ok)
        XCTAssertEqual(failing.message, "restore: cairn restore --stdout exited 1: injected failure")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0 != "cache" && $0 != "ledger.out" }, [],
                       "every scratch directory removed")
    }
}

/// A drill's world without processes: `cairn restore --stdout` writes `restored` (nil: fails).
private struct FakeDrillEnvironment: DrillEnvironment {
    let plan: Plan
    let repo: Repository?
    let restored: [UInt8]?

    func cairn(_ arguments: [String], _ r: PlanRepository, stdoutPath: String?, extraEnvironment: [String: String], maintenance: Bool) throws -> ChildResult {
        guard let restored, arguments.first == "restore", let stdoutPath else {
            return ChildResult(argv: arguments, status: 1, stderr: "cairn: error: injected failure\n")
        }
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: Data(restored))
        return ChildResult(argv: arguments, status: 0)
    }

    func open(_ r: PlanRepository) async throws -> Repository {
        guard let repo else { throw DrillFailure("no repository") }
        return repo
    }
}
