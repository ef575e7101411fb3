@testable import CairnEngine
import CairnCrypto
import CairnFormat
import CairnTestSupport
import Foundation
import XCTest

/// Restore writes only inside its target, whatever the snapshot's tree or the
/// target already holds (issue 15, items 1-3): forged trees with entries named
/// like temporary files and links to a victim, links planted in the target,
/// a link snapshot followed by a directory snapshot into one target.
final class HostileTreeRestoreTests: XCTestCase {
    var dir = ""
    var victim = ""
    let victimBytes = Array("the victim's own bytes\n".utf8)

    override func setUp() {
        dir = NSTemporaryDirectory() + "cairn-hostile-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: dir + "/outside", withIntermediateDirectories: true)
        victim = dir + "/outside/victim"
        XCTAssertTrue(FileManager.default.createFile(atPath: victim, contents: Data(victimBytes), attributes: [.posixPermissions: 0o600]))
        chmod(dir + "/outside", 0o755)
    }

    override func tearDown() {
        DirectoryHandle.unnamedFiles = true
        // rm copes with trees deeper than PATH_MAX.
        let rm = Process()
        rm.executableURL = URL(fileURLWithPath: "/bin/rm")
        rm.arguments = ["-rf", dir]
        try? rm.run()
        rm.waitUntilExit()
    }

    /// The victim and the outside directory are exactly as set up, and nothing else appeared there.
    func assertOutsideUntouched(file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual([UInt8](FileManager.default.contents(atPath: victim) ?? Data()), victimBytes, "victim overwritten", file: file, line: line)
        var st = stat()
        XCTAssertEqual(lstat(victim, &st), 0)
        XCTAssertEqual(st.st_mode & 0o7777, 0o600, "victim's mode changed", file: file, line: line)
        XCTAssertEqual(lstat(dir + "/outside", &st), 0)
        XCTAssertEqual(st.st_mode & 0o7777, 0o755, "outside directory's mode changed", file: file, line: line)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/outside"), ["victim"], "files written outside", file: file, line: line)
    }

    /// Both ways of writing a file: unnamed (O_TMPFILE) and under a random temporary name.
    func bothTemporaryKinds(_ body: (String) async throws -> Void) async throws {
        for unnamed in [true, false] {
            DirectoryHandle.unnamedFiles = unnamed
            try await body(unnamed ? "unnamed" : "named")
        }
        DirectoryHandle.unnamedFiles = true
    }

    /// Item 1: `X.cairn-restore` (the old temporary name) as a symlink to a
    /// victim, next to `X`, in either order of creation and concurrency.
    func testEntriesNamedLikeTemporariesLinkingToAVictimAreRestoredNotFollowed() async throws {
        let t = try await TestRepository.make()
        let forge = TreeForge(t.repo)
        var nodes: [Node] = []
        var expected: [String: String] = [:]
        for i in 0..<10 {
            let bytes = pseudoRandomBytes(100 + i * 37, seed: UInt64(i))
            nodes.append(try await forge.file("f\(i)", bytes, mode: 0o644))
            nodes.append(forge.symlink("f\(i).cairn-restore", to: victim))
            expected["d/f\(i)"] = "f:" + SHA256.id(bytes).hex + ":644"
            expected["d/f\(i).cairn-restore"] = "l:" + victim
        }
        // Names the new restorer's temporaries look like, too.
        nodes.append(forge.symlink(".cairn-0000000000000000.tmp", to: victim))
        expected["d/.cairn-0000000000000000.tmp"] = "l:" + victim
        expected["d"] = "d:755"
        let record = try await forge.snapshot([try await forge.directory("d", nodes)])
        try await bothTemporaryKinds { kind in
            for concurrent in [1, 4] {
                let out = dir + "/out-\(kind)-\(concurrent)"
                var restorer = Restorer(repo: t.repo, snapshot: record)
                restorer.plansInFlight = concurrent
                let result = try await restorer.restore(to: out)
                XCTAssertEqual(result.files, 10)
                XCTAssertEqual(try describeTree(out), expected, "\(kind), \(concurrent) at once")
                try assertOutsideUntouched()
                // Restoring again over the first restore: the links are replaced, never followed.
                _ = try await restorer.restore(to: out)
                XCTAssertEqual(try describeTree(out), expected)
                try assertOutsideUntouched()
            }
        }
    }

    /// Item 2: an honest backup of a directory holding both `X` and
    /// `X.cairn-restore` (and more such pairs) restores exactly.
    func testHonestTreeWithNamesLikeTemporariesRestoresExactly() async throws {
        let src = dir + "/src"
        try FileManager.default.createDirectory(atPath: src + "/sub", withIntermediateDirectories: true)
        for i in 0..<12 {
            for name in ["x\(i)", "x\(i).cairn-restore", "sub/x\(i)", "sub/x\(i).cairn-restore", "sub/x\(i).cairn-restore.cairn-restore"] {
                try Data(pseudoRandomBytes(50 + name.count * i, seed: UInt64(name.hashValue & 0xffff))).write(to: URL(fileURLWithPath: src + "/" + name))
            }
        }
        try FileManager.default.createSymbolicLink(atPath: src + "/l.cairn-restore", withDestinationPath: "x1")
        try Data("l".utf8).write(to: URL(fileURLWithPath: src + "/l"))
        let t = try await TestRepository.make()
        let r = try await Archiver(repo: t.repo, options: rootLayoutOptions("tree")).backup(paths: [src])
        let record = try t.repo.resolveSnapshot(r.snapshotID)
        let source = try describeTree(src)
        XCTAssertEqual(source.count, 12 * 5 + 3)
        try await bothTemporaryKinds { kind in
            for concurrent in [1, 4] {
                var restorer = Restorer(repo: t.repo, snapshot: record)
                restorer.plansInFlight = concurrent
                let out = dir + "/out-\(kind)-\(concurrent)"
                _ = try await restorer.restore(to: out)
                XCTAssertEqual(try describeTree(out + "/src"), source, "\(kind), \(concurrent) at once: every entry byte-identical")
            }
        }
    }

    /// Item 3: a directory symlink already in the target (to an outside
    /// directory) where the snapshot has a directory is replaced, not followed,
    /// and the warning says so; so is a planted `NAME.cairn-restore` link.
    func testLinksAlreadyInTheTargetAreReplacedNotFollowed() async throws {
        let t = try await TestRepository.make()
        let forge = TreeForge(t.repo)
        let record = try await forge.snapshot([
            try await forge.directory("d", mode: 0o777, [try await forge.file("f", Array("inside".utf8), mode: 0o4755)]),
            try await forge.file("g", Array("g".utf8)),
            try await forge.file("h", Array("h".utf8)),
        ])
        try await bothTemporaryKinds { kind in
            let out = dir + "/out-\(kind)"
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: out + "/d", withDestinationPath: dir + "/outside")
            try FileManager.default.createSymbolicLink(atPath: out + "/g.cairn-restore", withDestinationPath: victim)
            try FileManager.default.createSymbolicLink(atPath: out + "/h", withDestinationPath: victim)
            let result = try await Restorer(repo: t.repo, snapshot: record).restore(to: out)
            try assertOutsideUntouched()
            XCTAssertEqual(try describeTree(out)["d"], "d:777")
            XCTAssertEqual(try describeTree(out)["d/f"], "f:" + SHA256.id(Array("inside".utf8)).hex + ":4755")
            XCTAssertEqual(try describeTree(out)["h"], "f:" + SHA256.id(Array("h".utf8)).hex + ":644")
            XCTAssertTrue(result.warnings.contains { $0.contains("/d") && $0.contains("replaced the symbolic link") && $0.contains("directory") }, "\(result.warnings)")
            XCTAssertTrue(result.warnings.contains { $0.contains("/h") && $0.contains("replaced the symbolic link") }, "\(result.warnings)")
        }
    }

    /// Item 3: a link snapshot restored, then a directory snapshot of the same
    /// name into the same target: no setuid file outside, no chmod outside.
    func testLinkSnapshotThenDirectorySnapshotIntoOneTarget() async throws {
        let t = try await TestRepository.make()
        let forge = TreeForge(t.repo)
        let links = try await forge.snapshot([forge.symlink("d", to: dir + "/outside"), forge.symlink("v", to: victim)], name: "links")
        let dirs = try await forge.snapshot([
            try await forge.directory("d", mode: 0o777, [try await forge.file("victim", Array("planted".utf8), mode: 0o6777),
                                                         try await forge.file("suid", Array("planted".utf8), mode: 0o4777)]),
            try await forge.file("v", Array("v".utf8), mode: 0o666),
        ], name: "dirs")
        let out = dir + "/out"
        _ = try await Restorer(repo: t.repo, snapshot: links).restore(to: out)
        XCTAssertEqual(try describeTree(out), ["d": "l:" + dir + "/outside", "v": "l:" + victim])
        let result = try await Restorer(repo: t.repo, snapshot: dirs).restore(to: out)
        try assertOutsideUntouched()
        let tree = try describeTree(out)
        XCTAssertEqual(tree["d"], "d:777")
        XCTAssertEqual(tree["d/suid"], "f:" + SHA256.id(Array("planted".utf8)).hex + ":4777")
        XCTAssertEqual(tree["v"], "f:" + SHA256.id(Array("v".utf8)).hex + ":666")
        XCTAssertTrue(result.warnings.contains { $0.contains("replaced the symbolic link") }, "\(result.warnings)")
    }

    /// A directory where the snapshot has a file is refused, not replaced, and the error says so.
    func testDirectoryInTheWayOfAFileIsRefused() async throws {
        let t = try await TestRepository.make()
        let forge = TreeForge(t.repo)
        let record = try await forge.snapshot([try await forge.file("f", Array("f".utf8)), forge.symlink("l", to: victim)])
        for name in ["f", "l"] {
            let out = dir + "/out-" + name
            try FileManager.default.createDirectory(atPath: out + "/" + name + "/keep", withIntermediateDirectories: true)
            do {
                _ = try await Restorer(repo: t.repo, snapshot: record).restore(to: out)
                XCTFail("a directory in the way must fail the restore")
            } catch {
                XCTAssertTrue("\(error)".contains("not replaced"), "\(error)")
            }
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + name + "/keep"), "the directory is left as it was")
            XCTAssertEqual((try FileManager.default.contentsOfDirectory(atPath: out)).filter { $0.hasPrefix(".cairn-") }, [".cairn-restore-incomplete"],
                           "no temporary file left; the marker says the restore did not finish")
        }
        try assertOutsideUntouched()
    }

    /// Past the link limit (EMLINK on ext4 after 65,000) entries become copies
    /// written the same safe way, and later links link to the copy.
    func testHardLinksPastTheLinkLimitBecomeSafeCopies() async throws {
        let t = try await TestRepository.make()
        let forge = TreeForge(t.repo)
        let bytes = pseudoRandomBytes(5000, seed: 9)
        var nodes: [Node] = []
        for i in 0..<6 {
            nodes.append(try await forge.file("h\(i)", bytes, mode: 0o640, inode: 42))
            nodes.append(forge.symlink("h\(i).cairn-restore", to: victim))
        }
        let record = try await forge.snapshot([try await forge.directory("a", [try await forge.directory("b", nodes)]),
                                               try await forge.directory("c", [try await forge.file("h6", bytes, mode: 0o640, inode: 42)])])
        try await bothTemporaryKinds { kind in
            let out = dir + "/out-\(kind)"
            var restorer = Restorer(repo: t.repo, snapshot: record)
            restorer.linksPerFile = 2
            let result = try await restorer.restore(to: out)
            XCTAssertEqual(result.files, 7)
            try assertOutsideUntouched()
            var inodes: [UInt64] = []
            for path in (0..<6).map({ "a/b/h\($0)" }) + ["c/h6"] {
                XCTAssertEqual([UInt8](FileManager.default.contents(atPath: out + "/" + path) ?? Data()), bytes, path)
                var st = stat()
                XCTAssertEqual(lstat(out + "/" + path, &st), 0)
                XCTAssertEqual(st.st_mode & 0o7777, 0o640)
                inodes.append(UInt64(st.st_ino))
            }
            // A first copy and two links, then a copy and its two links, then a third copy.
            XCTAssertEqual(Set(inodes[0..<3]).count, 1)
            XCTAssertEqual(Set(inodes[3..<6]).count, 1)
            XCTAssertEqual(Set(inodes).count, 3)
            XCTAssertEqual(try describeTree(out)["a/b/h0.cairn-restore"], "l:" + victim)
        }
    }

    /// A chain of directories deeper than PATH_MAX allows as a path (17 KB) restores
    /// through descriptors; the descriptors of the path stay bounded.
    func testDeepNestingRestoresThroughDescriptors() async throws {
        let t = try await TestRepository.make()
        let forge = TreeForge(t.repo)
        let depth = 600
        let name = "directory-with-a-longer-name"
        var node = try await forge.file("bottom", Array("deep".utf8))
        for i in 0..<depth {
            let file = i % 10 == 0 ? [try await forge.file("f\(i % 3)", Array("x\(i)".utf8))] : []
            node = try await forge.directory(name, mode: i == depth / 2 ? 0o700 : 0o755, [node] + file)
        }
        let record = try await forge.snapshot([node])
        let before = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        let result = try await Restorer(repo: t.repo, snapshot: record).restore(to: dir + "/out")
        XCTAssertEqual(result.directories, UInt64(depth))
        XCTAssertEqual(result.files, UInt64(depth / 10 + 1))
        XCTAssertLessThanOrEqual(try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count, before + 2, "no descriptors left open")
        // Walk down by descriptor (the path is longer than PATH_MAX).
        var fd = open(dir + "/out", O_RDONLY | O_DIRECTORY)
        for i in 0..<depth {
            let next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            XCTAssertGreaterThanOrEqual(next, 0, "level \(i)")
            var st = stat()
            XCTAssertEqual(fstat(next, &st), 0)
            XCTAssertEqual(st.st_mode & 0o7777, depth - 1 - i == depth / 2 ? 0o700 : 0o755)
            XCTAssertEqual(st.st_mtim.tv_sec, 1_600_000_000, "directory times set after their entries")
            close(fd)
            fd = next
        }
        let f = openat(fd, "bottom", O_RDONLY)
        var buf = [UInt8](repeating: 0, count: 16)
        XCTAssertEqual(read(f, &buf, 16), 4)
        XCTAssertEqual(Array(buf.prefix(4)), Array("deep".utf8))
        close(f); close(fd)
    }
}

/// The incomplete-restore marker: written before the first entry, removed
/// only after the closing syncfs; left by a failed restore; a top-level
/// entry of its name is refused.
final class RestoreMarkerTests: XCTestCase {
    func testMarkerLifecycle() async throws {
        let dir = NSTemporaryDirectory() + "cairn-marker-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try await TestRepository.make()
        let forge = TreeForge(t.repo)
        let good = try await forge.snapshot([try await forge.directory("d", [try await forge.file("f", Array("f".utf8))])], name: "good")
        // A stale marker from an interrupted restore: restored over, reported, removed.
        try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/out/.cairn-restore-incomplete", contents: Data("old".utf8)))
        let r = try await Restorer(repo: t.repo, snapshot: good).restore(to: dir + "/out")
        XCTAssertTrue(r.warnings.contains { $0.contains("did not finish") }, "\(r.warnings)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out/.cairn-restore-incomplete"))
        XCTAssertEqual(try String(contentsOfFile: dir + "/out/d/f", encoding: .utf8), "f")

        // A file that cannot be restored (its chunk is missing from the index) leaves the marker, naming the snapshot.
        var broken = try await forge.file("g", Array("g".utf8))
        broken.content = ContentRef(level: 0, ids: [ChunkID(bytes: [UInt8](repeating: 7, count: 32))!])
        let bad = try await TreeForge(t.repo).snapshot([broken], name: "bad")
        do {
            _ = try await Restorer(repo: t.repo, snapshot: bad).restore(to: dir + "/out2")
            XCTFail("a missing chunk must fail the restore")
        } catch {}
        let marker = try String(contentsOfFile: dir + "/out2/.cairn-restore-incomplete", encoding: .utf8)
        XCTAssertTrue(marker.contains(bad.id.hex) && marker.contains("has not finished"), marker)

        // The marker's name at the top of a snapshot is refused before anything is written.
        let clash = try await TreeForge(t.repo).snapshot([try await TreeForge(t.repo).file(".cairn-restore-incomplete", [1])], name: "clash")
        do {
            _ = try await Restorer(repo: t.repo, snapshot: clash).restore(to: dir + "/out3")
            XCTFail("a top-level entry named like the marker must be refused")
        } catch {
            XCTAssertTrue("\(error)".contains("marker"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/out3"), [])
    }
}
