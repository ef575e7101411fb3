import CairnStorage
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Issue 14.3: what a local store creates keeps the group's access when the
/// repository is group-accessible (restic's convention), whatever the umask.
final class FileModesTests: XCTestCase {
    var dir: String!
    var savedUmask: mode_t = 0

    override func setUp() {
        dir = NSTemporaryDirectory() + "cairn-modes-\(UUID().uuidString)"
        savedUmask = umask(0o022)
    }

    override func tearDown() {
        umask(savedUmask)
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func mode(_ path: String) -> (mode: mode_t, gid: gid_t) {
        var st = stat()
        XCTAssertEqual(stat(path, &st), 0, path)
        return (st.st_mode & 0o7777, st.st_gid)
    }

    /// A group other than the process's own, when one exists (root may give any).
    private var otherGroup: gid_t {
        if geteuid() == 0, let g = getgrnam("postgres") ?? getgrnam("nogroup") { return g.pointee.gr_gid }
        return getegid()
    }

    func testPrivateRepositoryStaysOwnerOnly() async throws {
        let store = LocalStore(root: dir)
        try store.createLayout()
        try await store.put(.config, [1])
        try await store.put(ObjectKey(.locks, "l1"), [2])
        XCTAssertEqual(LocalStore(root: dir).modes, .ownerOnly)
        XCTAssertEqual(mode("\(dir!)/config").mode, 0o600)
        XCTAssertEqual(mode("\(dir!)/locks/l1").mode, 0o600)
        XCTAssertEqual(mode("\(dir!)/locks").mode, 0o700)
    }

    func testSetgidGroupWritableDirectoryMakesEverythingGroupReadWrite() async throws {
        let group = otherGroup
        XCTAssertEqual(mkdir(dir, 0o700), 0)
        XCTAssertEqual(chown(dir, uid_t.max, group), 0)
        XCTAssertEqual(chmod(dir, 0o2770), 0)
        let store = LocalStore(root: dir)
        XCTAssertEqual(store.modes, FileModes(file: 0o660, directory: 0o770, group: group))
        try store.createLayout()
        try await store.put(.config, [1])
        try await store.put(ObjectKey(.locks, "l1"), [2])
        try await store.put(ObjectKey(.data, String(repeating: "ab", count: 32)), [3])
        let staged = try StagingFile(directory: store.stagingDirectory!, prefix: "pack", modes: store.stagingModes)
        for path in ["\(dir!)/config", "\(dir!)/locks/l1", "\(dir!)/data/ab/" + String(repeating: "ab", count: 32), staged.path] {
            XCTAssertEqual(mode(path).mode, 0o660, path)
            XCTAssertEqual(mode(path).gid, group, path)
        }
        for d in ["locks", "tmp", "data/ab"] {
            XCTAssertEqual(mode("\(dir!)/\(d)").mode, 0o2770, d)
            XCTAssertEqual(mode("\(dir!)/\(d)").gid, group, d)
        }
        staged.discard()
    }

    func testGroupWritableConfigWithoutSetgidStillGivesTheGroup() async throws {
        // `chmod -R g+rwX` without the setgid bit: new files still get the repository's group.
        let store = LocalStore(root: dir)
        try store.createLayout()
        try await store.put(.config, [1])
        let group = otherGroup
        for p in [dir!, "\(dir!)/config", "\(dir!)/locks"] { XCTAssertEqual(chown(p, uid_t.max, group), 0) }
        XCTAssertEqual(chmod(dir, 0o770), 0)
        XCTAssertEqual(chmod("\(dir!)/config", 0o660), 0)
        XCTAssertEqual(chmod("\(dir!)/locks", 0o770), 0)
        let shared = LocalStore(root: dir)
        XCTAssertTrue(shared.modes.isShared)
        try await shared.put(ObjectKey(.locks, "l2"), [2])
        XCTAssertEqual(mode("\(dir!)/locks/l2").mode, 0o660)
        XCTAssertEqual(mode("\(dir!)/locks/l2").gid, group)
    }

    func testGroupReadableConfigGivesReadOnlyGroupAccess() async throws {
        let store = LocalStore(root: dir)
        try store.createLayout()
        try await store.put(.config, [1])
        XCTAssertEqual(chmod("\(dir!)/config", 0o640), 0)
        let readable = LocalStore(root: dir)
        XCTAssertEqual(readable.modes.file, 0o640)
        XCTAssertEqual(readable.modes.directory, 0o750)
        try await readable.put(ObjectKey(.snapshots, "s1"), [1])
        XCTAssertEqual(mode("\(dir!)/snapshots/s1").mode, 0o640)
    }

    func testTemporaryNamesTellDeadWritersFromLiveOnes() throws {
        let mine = TemporaryFileName.make(prefix: "pack")
        XCTAssertFalse(TemporaryFileName.writerIsGone(mine), "this process is alive")
        // A process that has exited (and was reaped).
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        let parts = mine.split(separator: "~")
        let tag = parts[1].split(separator: ".")
        let dead = "pack~\(tag[0]).\(p.processIdentifier).12345~00"
        XCTAssertTrue(TemporaryFileName.writerIsGone(dead))
        // A live pid started at another time: the pid was reused, the writer is gone.
        XCTAssertTrue(TemporaryFileName.writerIsGone("pack~\(tag[0]).\(getppid()).1~00"))
        // Another host, or a name in another format: never provably stale.
        XCTAssertFalse(TemporaryFileName.writerIsGone("pack~deadbeef.\(p.processIdentifier).1~00"))
        XCTAssertFalse(TemporaryFileName.writerIsGone("pack-123456"))
        XCTAssertFalse(TemporaryFileName.writerIsGone("a~b~c~d"))
    }
}
