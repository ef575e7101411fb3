@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// A copy into a repository that cuts chunks otherwise re-chunks each snapshot
/// with the profile it was backed up with (issue 19: it used to read a key
/// nothing wrote, and cut RDB and WAL streams with the dump profile).
final class CopierProfileTests: XCTestCase {
    /// The root tree's one node's content: the stream's chunk list.
    private func streamContent(_ repo: Repository, _ snapshotID: String) async throws -> ContentRef {
        let record = try repo.resolveSnapshot(snapshotID)
        let tree = try await repo.loadTree(record.snapshot.root)
        XCTAssertEqual(tree.nodes.count, 1)
        return try XCTUnwrap(tree.nodes.first).content
    }

    func testARechunkingCopyCutsWALAndRDBStreamsWithTheirOwnProfile() async throws {
        for (profile, seed) in [("wal", UInt64(1)), ("rdb", 2), ("dump", 3)] {
            let source = try await TestRepository.make()
            let destination = try await TestRepository.make()
            let bytes = pseudoRandomBytes(3 << 20, seed: seed)
            let backed = try await backupStream(source.repo, bytes, name: "s-\(profile)", profile: profile)
            XCTAssertEqual(backed.snapshot.extra[SnapshotFacts.chunkerProfile], profile, "the backup records its profile")

            let copier = try Copier(source: source.repo, destination: destination.repo)
            XCTAssertFalse(copier.sameChunker, "different master keys: different chunker seeds")
            let report = try await copier.copy(try source.repo.snapshots())
            XCTAssertTrue(report.rechunked)
            let copyID = try XCTUnwrap(report.copied.first?.destination.hex)

            // The copy holds exactly the chunks a backup of the same bytes into the destination makes,
            // so later backups there dedup against it.
            let direct = try await backupStream(destination.repo, bytes, name: "direct-\(profile)", profile: profile)
            let copied = try await streamContent(destination.repo, copyID)
            let native = try await streamContent(destination.repo, direct.snapshotID)
            XCTAssertEqual(copied, native, "\(profile): the copy is cut with the \(profile) profile")
            XCTAssertEqual(direct.newBytes, 0, "\(profile): the direct backup adds nothing after the copy")
            XCTAssertEqual(try destination.repo.resolveSnapshot(copyID).snapshot.extra[SnapshotFacts.chunkerProfile], profile)
            let restored = try await restoreStream(destination.repo, copyID)
            XCTAssertTrue(restored == bytes, "\(profile): the copy restores byte for byte")
        }
    }

    func testSnapshotsWithoutARecordedProfileGetTheProfileTheirSourceDeclares() throws {
        let config = RepositoryConfig(repositoryID: [UInt8](repeating: 1, count: 32), createdNanos: 0)
        let root = try XCTUnwrap(ChunkID(bytes: [UInt8](repeating: 7, count: 32)))
        func snapshot(_ kind: String, _ extra: [String: String]) -> Snapshot {
            Snapshot(timeNanos: 0, name: "n", host: "h", user: "u", tags: [], paths: ["-"], sourceKind: .init(rawValue: kind), root: root, extra: extra)
        }
        // Rules as source adapters declare them (the registry's own are checked in CairnOpsTests).
        let rules = [UnrecordedProfile(profile: "wal") { $0.extra["x-wal"] != nil }, UnrecordedProfile(profile: "rdb") { $0.extra["x-rdb"] != nil }]
        XCTAssertEqual(UnrecordedProfile.profile(of: snapshot("stream", ["x-wal": "1"]), rules: rules, in: config), "wal")
        XCTAssertEqual(UnrecordedProfile.profile(of: snapshot("stream", ["x-rdb": "1"]), rules: rules, in: config), "rdb")
        XCTAssertEqual(UnrecordedProfile.profile(of: snapshot("stream", ["x-rdb": "1"]), rules: [], in: config), "dump",
                       "no rule: a stream's default")
        XCTAssertEqual(UnrecordedProfile.profile(of: snapshot("stream", ["pg-kind": "dump"]), rules: rules, in: config), "dump")
        XCTAssertEqual(UnrecordedProfile.profile(of: snapshot("tree", ["pg-kind": "base"]), rules: rules, in: config), "file")
        XCTAssertEqual(UnrecordedProfile.profile(of: snapshot("stream", [SnapshotFacts.chunkerProfile.rawValue: "wal", "x-rdb": "1"]), rules: rules, in: config),
                       "wal", "a recorded profile wins")
        XCTAssertEqual(UnrecordedProfile.profile(of: snapshot("stream", [SnapshotFacts.chunkerProfile.rawValue: "custom"]), rules: rules, in: config), "dump",
                       "a profile the destination lacks falls back to the kind's default")
        XCTAssertEqual(UnrecordedProfile.profile(of: snapshot("stream", ["x-wal": "1"]), rules: [UnrecordedProfile(profile: "custom") { _ in true }], in: config),
                       "dump", "so does a rule's profile the destination lacks")
    }
}
