@testable import CairnEngine
import CairnFormat
import CairnRetention
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

final class ForgetTests: XCTestCase {
    /// Snapshots of two names, one a day ("pg" a minute after "etc"); returns ids by name, oldest first.
    func fixture() async throws -> (PruneFixture, [String: [String]]) {
        var f = PruneFixture(mem: MemoryStore(), t: try await TestRepository.make(profiles: PruneFixture.profiles))
        f = PruneFixture(mem: f.t.store as! MemoryStore, t: f.t)
        var ids: [String: [String]] = [:]
        for day in 0..<5 {
            for name in ["etc", "pg"] {
                try await f.backup(pseudoRandomBytes(5_000, seed: UInt64(day * 10 + name.count)), name: name,
                                   time: Int64(1_700_000_000 + day * 86_400 + (name == "pg" ? 60 : 0)) * 1_000_000_000)
                ids[name, default: []].append(f.order.last!)
            }
        }
        return (f, ids)
    }

    func policy(_ edit: (inout RetentionPolicy) -> Void) -> RetentionPolicy { var p = RetentionPolicy(); edit(&p); return p }

    func testCountsApplyPerNameAndObjectsAreDeleted() async throws {
        let (f, ids) = try await fixture()
        let out = try await SnapshotForgetter(repo: f.t.repo).run(policy: policy { $0.last = 2 }, selection: .init(), separately: [], allowRemoveAll: false, dryRun: false)
        XCTAssertEqual(out.groups.map(\.key.name), ["etc", "pg"])
        XCTAssertEqual(Set(out.removed.map(\.hex)), Set(ids["etc"]!.prefix(3) + ids["pg"]!.prefix(3)))
        XCTAssertEqual(out.kept, 4)
        XCTAssertEqual(out.groups[0].decisions.filter(\.keep).map { $0.reasons.map(\.description) }, [["last 1"], ["last 2"]])
        let stored = Set(try await f.mem.list(.snapshots).map(\.name))
        XCTAssertEqual(stored, Set(ids["etc"]!.suffix(2) + ids["pg"]!.suffix(2)))
        XCTAssertEqual(Set(try f.t.repo.snapshots().map(\.id.hex)), stored, "the cache follows")
        let v1 = try await f.open().snapshots().map(\.id.hex)
        XCTAssertEqual(Set(v1), stored)
        try await f.assertRestores(Array(stored))
    }

    func testNameFilterAndGroupingByNothing() async throws {
        let (f, ids) = try await fixture()
        var sel = SnapshotForgetter.Selection(); sel.names = ["pg"]
        let out = try await SnapshotForgetter(repo: f.t.repo).run(policy: policy { $0.last = 1 }, selection: sel, separately: [], allowRemoveAll: false, dryRun: false)
        XCTAssertEqual(Set(out.removed.map(\.hex)), Set(ids["pg"]!.dropLast()))
        XCTAssertEqual(try f.t.repo.snapshots(name: "etc").count, 5)
        var all = SnapshotForgetter.Selection(); all.groupBy = []
        let out2 = try await SnapshotForgetter(repo: f.t.repo).run(policy: policy { $0.last = 1 }, selection: all, separately: [], allowRemoveAll: false, dryRun: false)
        XCTAssertEqual(out2.groups.count, 1)
        XCTAssertEqual(try f.t.repo.snapshots().map(\.id.hex), [ids["pg"]!.last!])
    }

    func testDryRunRemovesNothing() async throws {
        let (f, _) = try await fixture()
        let out = try await SnapshotForgetter(repo: f.t.repo).run(policy: policy { $0.daily = 1 }, selection: .init(), separately: [], allowRemoveAll: false, dryRun: true)
        XCTAssertEqual(out.removed.count, 8)
        let v2 = try await f.mem.list(.snapshots).count
        XCTAssertEqual(v2, 10)
    }

    func testRefusesToEmptyAGroupOrApplyAnEmptyPolicy() async throws {
        let (f, ids) = try await fixture()
        let forgetter = SnapshotForgetter(repo: f.t.repo)
        for (p, sel) in [(policy { $0.tags = [["never-used"]] }, SnapshotForgetter.Selection()), (RetentionPolicy(), SnapshotForgetter.Selection())] {
            do {
                _ = try await forgetter.run(policy: p, selection: sel, separately: [], allowRemoveAll: false, dryRun: false)
                XCTFail("refusal expected for \(p.description)")
            } catch let r as SnapshotForgetter.Refusal {
                XCTAssertTrue(r.description.contains("--allow-remove-all"), r.description)
            }
        }
        // Empty policy + --allow-remove-all still needs a filter.
        do { _ = try await forgetter.run(policy: RetentionPolicy(), selection: .init(), separately: [], allowRemoveAll: true, dryRun: false); XCTFail() } catch is SnapshotForgetter.Refusal {}
        let v3 = try await f.mem.list(.snapshots).count
        XCTAssertEqual(v3, 10, "a refusal removes nothing")
        var sel = SnapshotForgetter.Selection(); sel.names = ["etc"]
        let out = try await forgetter.run(policy: RetentionPolicy(), selection: sel, separately: [], allowRemoveAll: true, dryRun: false)
        XCTAssertEqual(Set(out.removed.map(\.hex)), Set(ids["etc"]!))
        let v4 = try await f.mem.list(.snapshots).map(\.name)
        XCTAssertEqual(Set(v4), Set(ids["pg"]!))
    }

    /// A source's own retention rule (as PostgreSQL registers for archived WAL): the policy never
    /// sees the snapshots it covers, not even in a group of their own, and they all stay.
    func testSnapshotsASourceKeepsSeparatelyAreLeftOutOfThePolicy() async throws {
        let (f, ids) = try await fixture()
        let rule = SeparateRetention(what: "pg snapshots") { $0.name == "pg" }
        let out = try await SnapshotForgetter(repo: f.t.repo).run(policy: policy { $0.last = 1 }, selection: .init(), separately: [rule],
                                                                  allowRemoveAll: false, dryRun: false)
        XCTAssertEqual(out.groups.map(\.key.name), ["etc"])
        XCTAssertEqual(Set(out.removed.map(\.hex)), Set(ids["etc"]!.dropLast()))
        XCTAssertEqual(Set(try f.t.repo.snapshots(name: "pg").map(\.id.hex)), Set(ids["pg"]!))
        let stored = Set(try await f.mem.list(.snapshots).map(\.name))
        XCTAssertEqual(stored, Set(ids["pg"]! + [ids["etc"]!.last!]))
    }
}
