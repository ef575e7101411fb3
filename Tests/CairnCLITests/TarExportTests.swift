@testable import CairnEngine
@testable import CairnRepository
import CairnCrypto
import CairnFormat
import CairnStorage
import CairnTar
import Foundation
import XCTest

/// `restore --tar` and `--stdout` against what a consumer does with the bytes
/// (issue 15.5, 15.15, 14.5, 14.12): a forged entry longer than its recorded
/// size injects no member, times from 1600 to 2300 and -1.5 s come out exact,
/// extended attributes survive GNU tar --xattrs.
final class TarExportTests: CLITestCase {
    /// A directory on tmpfs when there is one: it holds any time (ext4 clamps 1600 to 1901).
    func scratch(_ name: String) throws -> URL {
        let shm = URL(fileURLWithPath: "/dev/shm")
        let base = access(shm.path, W_OK) == 0 ? shm.appendingPathComponent("cairn-\(UUID().uuidString)") : tmp.appendingPathComponent("shm")
        let dir = base.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: base) }
        return dir
    }

    func sh(_ command: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try Self.shell(command)
        XCTAssertEqual(r.status, 0, "\(command): \(r.err)", file: file, line: line)
        return r.out
    }

    /// `stat` of every entry below `dir`: name, type, mode, mtime with nanoseconds (sorted).
    func listing(_ dir: URL) throws -> String {
        try sh("cd \(Self.quote(dir.path)) && find . -print0 | sort -z | xargs -0 stat -c '%n %F %a %Y %y'")
    }

    // MARK: 14.5, 15.15: times outside 1677-2262, and extreme ones

    func testTimesOutside1677To2262BackUpAndRestoreExactly() throws {
        try initRepo()
        let src = try scratch("src")
        _ = try sh("""
            cd \(Self.quote(src.path)) && mkdir d && printf future > d/f2300 && printf past > f1600 && printf f > frac && ln -s f1600 link
            touch -d '2300-01-01 00:00:00.123456789 UTC' d/f2300
            touch -d '1600-01-01 UTC' f1600
            touch -d '1969-12-31 23:59:58.5 UTC' frac
            touch -d '1677-09-21 00:12:43.145224192 UTC' d
            touch -h -d '2262-04-11 23:47:16.854775807 UTC' link
            """)
        let before = try listing(src)
        XCTAssertTrue(before.contains("2300-01-01 00:00:00.123456789"), before)
        try ok(["backup", src.path, "--name", "times"])
        // A second backup compares the times of unchanged files (and must not crash on them).
        try ok(["backup", src.path, "--name", "times"])

        let out = try scratch("out")
        try ok(["restore", "latest", "--name", "times", "--target", out.path])
        XCTAssertEqual(try listing(restored(src, under: out)), before)

        let tarFile = tmp.appendingPathComponent("times.tar")
        let r = try cli.run(["restore", "latest", "--name", "times", "--tar"], stdin: .none)
        XCTAssertEqual(r.status, 0, r.summary)
        try r.stdout.write(to: tarFile)
        let x = try scratch("x")
        _ = try sh("tar -xpf \(Self.quote(tarFile.path)) -C \(Self.quote(x.path))")
        XCTAssertEqual(try listing(restored(src, under: x)), before, "GNU tar reads the pax mtimes back exactly")
        // Python's tarfile sees -1.5 s as -1.5 (not -2.5).
        let py = try sh("python3 -c 'import tarfile,sys; t=tarfile.open(sys.argv[1]); print(repr(t.getmember(sys.argv[2]).mtime))' \(Self.quote(tarFile.path)) \(Self.quote(String(src.path.dropFirst()) + "/frac"))")
        XCTAssertEqual(py.trimmingCharacters(in: .whitespacesAndNewlines), "-1.5")
        let ls = try ok(["ls", "latest", "--name", "times"]).out
        XCTAssertTrue(ls.contains("2300-01-01T00:00:00Z") && ls.contains("1600-01-01T00:00:00Z"), ls)
    }

    // MARK: 14.12: extended attributes in restore --tar

    func testRestoreTarKeepsExtendedAttributesForGNUTar() throws {
        try initRepo()
        let src = try scratch("src")
        let set = """
            import os, sys
            d = sys.argv[1]
            os.makedirs(d + '/sub')
            open(d + '/f', 'w').write('f')
            os.setxattr(d + '/f', 'user.checksum', b'\\x00\\xff binary = value\\n')
            os.setxattr(d + '/f', 'user.empty', b'')
            os.setxattr(d + '/sub', 'user.dir', b'on a directory')
            """
        let script = tmp.appendingPathComponent("set.py")
        try Data(set.utf8).write(to: script)
        guard (try Self.shell("python3 \(Self.quote(script.path)) \(Self.quote(src.path + "/t"))")).status == 0 else {
            throw XCTSkip("this file system has no user extended attributes")
        }
        try ok(["backup", src.path + "/t", "--name", "x"])
        let r = try cli.run(["restore", "latest", "--name", "x", "--tar"], stdin: .none)
        XCTAssertEqual(r.status, 0, r.summary)
        let tarFile = tmp.appendingPathComponent("x.tar")
        try r.stdout.write(to: tarFile)
        let dump = """
            import os, sys
            for p in sorted(sys.argv[1:]):
                print(p.split('/t/', 1)[1], sorted((k, os.getxattr(p, k).hex()) for k in os.listxattr(p)))
            """
        let dumpScript = tmp.appendingPathComponent("dump.py")
        try Data(dump.utf8).write(to: dumpScript)
        let expected = try sh("python3 \(Self.quote(dumpScript.path)) \(Self.quote(src.path))/t/f \(Self.quote(src.path))/t/sub")
        XCTAssertTrue(expected.contains("user.checksum"), expected)
        for (tool, flags) in [("tar", "--xattrs --xattrs-include='*' -xpf"), ("bsdtar", "-xpf")] {
            guard (try Self.shell("command -v \(tool)")).status == 0 else { continue }
            let x = try scratch("x-\(tool)")
            _ = try sh("\(tool) \(flags) \(Self.quote(tarFile.path)) -C \(Self.quote(x.path))")
            let t = restored(src.appendingPathComponent("t"), under: x).path
            let got = try sh("python3 \(Self.quote(dumpScript.path)) \(Self.quote(t))/f \(Self.quote(t))/sub")
            XCTAssertEqual(got, expected, "\(tool) restores the attributes")
        }
    }

    // MARK: 15.15: a forged tree with the most extreme times a node holds

    func testForgedExtremeTimesNeitherTrapNorCorrupt() async throws {
        try initRepo()
        let times: [(String, FileTime)] = [("nanos-min", FileTime(nanos: .min)), ("nanos-max", FileTime(nanos: .max)),
                                           ("seconds-min", FileTime(seconds: .min, nanoseconds: 999_999_999)),
                                           ("seconds-max", FileTime(seconds: .max, nanoseconds: 999_999_999))]
        let id = try await forge({ saver, repo in
            var nodes: [Node] = []
            for (name, t) in times {
                var node = try await Self.dataNode(name, recordedSize: 4, content: Array("data".utf8), saver: saver, repo: repo)
                node.mtime = t; node.ctime = t
                nodes.append(node)
            }
            var dir = Node(name: Array("dir-min".utf8), kind: .directory, mode: 0o755)
            dir.subtree = try await saver.saveMetadata(.tree, Tree(nodes: []).encoded())
            dir.mtime = FileTime(seconds: .min, nanoseconds: 0)
            return nodes + [dir]
        }, name: "times")
        let tar = try cli.run(["restore", id, "--tar"], stdin: .none)
        XCTAssertEqual(tar.status, 0, tar.summary)
        let tarFile = tmp.appendingPathComponent("extreme.tar")
        try tar.stdout.write(to: tarFile)
        // GNU tar and Python's tarfile read every member back, with the content.
        let listed = try sh("tar -tf \(Self.quote(tarFile.path))")
        for (name, _) in times { XCTAssertTrue(listed.contains(name), listed) }
        let py = try sh("python3 -c 'import tarfile,sys; t=tarfile.open(sys.argv[1]); print(sorted((m.name, t.extractfile(m).read().decode()) for m in t.getmembers() if m.isfile()))' \(Self.quote(tarFile.path))")
        XCTAssertEqual(py.trimmingCharacters(in: .whitespacesAndNewlines),
                       "[('nanos-max', 'data'), ('nanos-min', 'data'), ('seconds-max', 'data'), ('seconds-min', 'data')]")
        XCTAssertEqual(try ok(["ls", id]).status, 0)
        XCTAssertEqual(try ok(["ls", id, "--json"]).status, 0)
        // A tree restore writes the files (times the file system cannot hold are a warning, never a trap).
        let target = try scratch("extreme")
        let restore = try cli.run(["restore", id, "--target", target.path], stdin: .none)
        XCTAssertTrue([0, 3].contains(restore.status), restore.summary)
        for (name, _) in times {
            XCTAssertEqual(try String(contentsOf: target.appendingPathComponent(name), encoding: .utf8), "data")
        }
    }

    // MARK: 15.5: a forged entry cannot add members

    /// Stores a snapshot of `nodes` through the engine (what any client with the key can write).
    func forge(_ nodes: (BlobSaver, Repository) async throws -> [Node], name: String) async throws -> String {
        let repository = try await Repository.open(store: LocalStore(root: repo.path), passphrase: Array(password.utf8),
                                                   cacheBase: tmp.appendingPathComponent("forge-cache").path)
        let saver = BlobSaver(repo: repository)
        let root = try await saver.saveMetadata(.tree, Tree(nodes: try await nodes(saver, repository)).encoded())
        try await saver.finish()
        return try await repository.saveSnapshot(Snapshot(timeNanos: Clock.nowNanos(), name: name, host: "forge", sourceKind: "tree", root: root))
    }

    static func dataNode(_ name: String, recordedSize: UInt64, content: [UInt8], saver: BlobSaver, repo: Repository) async throws -> Node {
        var node = Node(name: Array(name.utf8), kind: .file, mode: 0o644, size: recordedSize)
        let id = SHA256.id(content)
        if try saver.claim(id, type: .data) {
            try await saver.add(sealed: try repo.codec.seal(content, type: .data, id: id), type: .data, id: id, rawLength: content.count)
        }
        node.content = ContentRef(level: 0, ids: [id])
        return node
    }

    func testForgedOverlongEntryInjectsNoMembers() async throws {
        try initRepo()
        let outside = tmp.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        // After 10 honest bytes, padding to the block boundary, then members a naive extractor would write outside.
        func member(_ path: String, _ kind: TarEntry.Kind, _ content: [UInt8] = []) -> [UInt8] {
            TarWriter.header(for: TarEntry(path: Array(path.utf8), kind: kind, mode: 0o644, size: UInt64(content.count))) + content +
                [UInt8](repeating: 0, count: TarWriter.padding(for: UInt64(content.count)))
        }
        let injected = member("../escape.txt", .file, Array("escaped".utf8)) + member(outside.path + "/abs.txt", .file, Array("abs".utf8)) +
            member("s", .symlink(target: Array(outside.path.utf8))) + member("s/through.txt", .file, Array("through".utf8))
        let content = Array("0123456789".utf8) + [UInt8](repeating: 0, count: 502) + injected
        let treeID = try await forge({ saver, repo in
            [try await Self.dataNode("a.txt", recordedSize: 10, content: content, saver: saver, repo: repo)]
        }, name: "forged")
        let streamID = try await forge({ saver, repo in
            [try await Self.dataNode("stream", recordedSize: 10, content: content, saver: saver, repo: repo)]
        }, name: "forged-stream")

        let tarRun = try cli.run(["restore", treeID, "--tar"], stdin: .none)
        XCTAssertNotEqual(tarRun.status, 0, tarRun.summary)
        XCTAssertTrue(tarRun.err.contains("more bytes than"), tarRun.summary)
        let emitted = [UInt8](tarRun.stdout)
        XCTAssertLessThanOrEqual(emitted.count, 512 + 10, "nothing past a.txt's header and its 10 bytes")
        XCTAssertNil(String(decoding: emitted, as: UTF8.self).range(of: "escape"), "no injected header in the stream")
        // A naive consumer (Python tarfile, fully trusting) extracts nothing outside.
        let tarFile = tmp.appendingPathComponent("forged.tar")
        try tarRun.stdout.write(to: tarFile)
        let into = tmp.appendingPathComponent("consumer/inside")
        try FileManager.default.createDirectory(at: into, withIntermediateDirectories: true)
        let consume = """
            import sys, tarfile
            try:
                t = tarfile.open(sys.argv[1])
                kw = {'filter': 'fully_trusted'} if hasattr(tarfile, 'fully_trusted_filter') else {}
                t.extractall(sys.argv[2], **kw)
            except Exception as e:
                print('consumer error:', e)
            """
        let script = tmp.appendingPathComponent("consume.py")
        try Data(consume.utf8).write(to: script)
        _ = try Self.shell("python3 \(Self.quote(script.path)) \(Self.quote(tarFile.path)) \(Self.quote(into.path))")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside.path), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: into.deletingLastPathComponent().appendingPathComponent("escape.txt").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: into.appendingPathComponent("s").path))

        // --stdout: not one byte past the recorded size.
        let stdoutRun = try cli.run(["restore", streamID, "--stdout"], stdin: .none)
        XCTAssertNotEqual(stdoutRun.status, 0, stdoutRun.summary)
        XCTAssertLessThanOrEqual(stdoutRun.stdout.count, 10)
        // The tree restore refuses it too, leaving nothing under the name.
        let target = tmp.appendingPathComponent("target")
        XCTAssertNotEqual(try cli.run(["restore", treeID, "--target", target.path], stdin: .none).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: target.appendingPathComponent("a.txt").path))
    }
}
