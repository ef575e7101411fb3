import Foundation
import XCTest

/// `cairn dump SNAPSHOT PATH` (issue 17): a file's bytes on standard output,
/// a directory (or "/") as a tar stream that GNU tar extracts to the same
/// tree; a missing path, a link, damaged data and a terminal on standard
/// output fail with one line.
final class DumpCommandTests: CLITestCase {
    /// The snapshot path of the backed-up directory `src` as `ls --json` lists
    /// it (whatever prefix the snapshot records it under).
    private func snapshotPath(ofDirectoryNamed name: String, snapshot: String = "latest") throws -> String {
        let entries = try ok(["ls", snapshot, "--json"]).jsonLines()
        let dirs = entries.compactMap { e -> String? in
            guard e["type"] as? String == "dir", let p = e["path"] as? String, p.hasSuffix("/" + name) else { return nil }
            return p
        }
        guard let shortest = dirs.min(by: { $0.count < $1.count }) else { throw CLIError.setup("no directory \(name) in ls: \(entries)") }
        return shortest
    }

    private func sh(_ command: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try Self.shell(command)
        XCTAssertEqual(r.status, 0, "\(command): \(r.err)", file: file, line: line)
        return r.out
    }

    private func makeSource() throws -> URL {
        let src = tmp.appendingPathComponent("src")
        // Several chunks (random, so nothing dedups), a small file, an empty one, a nested one, a name with a newline.
        try write(TestData.random(700_000, seed: 3), to: src.appendingPathComponent("d/big.bin"))
        try write(Data("hello\n".utf8), to: src.appendingPathComponent("d/small.txt"))
        try write(Data(), to: src.appendingPathComponent("d/empty"))
        try write(TestData.random(5000, seed: 4), to: src.appendingPathComponent("d/sub/g"))
        try write(Data("line\nbreak".utf8), to: src.appendingPathComponent("odd\nname"))
        _ = try sh("""
            cd \(Self.quote(src.path)) && ln -s d/small.txt link && ln d/sub/g d/hardlink && chmod 640 d/small.txt && \
            touch -d '2021-03-04 05:06:07.891 UTC' d/big.bin d/sub
            """)
        return src
    }

    func testDumpFileDirectoryAndWholeSnapshot() throws {
        try initRepo()
        let src = try makeSource()
        try ok(["backup", src.path, "--name", "tree"])
        let base = try snapshotPath(ofDirectoryNamed: "src")

        // A file: its bytes exactly, nothing else on standard output.
        let big = try ok(["dump", "latest", "--name", "tree", base + "/d/big.bin"])
        XCTAssertEqual(big.stdout, try Data(contentsOf: src.appendingPathComponent("d/big.bin")))
        XCTAssertEqual(try ok(["dump", "latest", "--name", "tree", base + "/d/empty"]).stdout, Data())
        // By the escaped name ls prints.
        XCTAssertEqual(try ok(["dump", "latest", "--name", "tree", base + "/odd\\nname"]).stdout, Data("line\nbreak".utf8))
        // --json: a summary on standard error, the data alone on standard output.
        let j = try ok(["dump", "latest", "--name", "tree", "--json", base + "/d/small.txt"])
        XCTAssertEqual(j.stdout, Data("hello\n".utf8))
        let summary = try JSONSerialization.jsonObject(with: Data(j.err.utf8)) as? [String: Any]
        XCTAssertEqual(summary?["bytes"] as? Int, 6, j.summary)
        XCTAssertEqual(summary?["kind"] as? String, "file", j.summary)

        // A directory: a tar stream of that directory only, named by its snapshot path; GNU tar extracts the same tree.
        let dirTar = tmp.appendingPathComponent("d.tar")
        try ok(["dump", "latest", "--name", "tree", base + "/d"]).stdout.write(to: dirTar)
        let rel = String(base.dropFirst())
        let members = try sh("tar -tf \(Self.quote(dirTar.path))").split(separator: "\n").map(String.init)
        XCTAssertFalse(members.isEmpty)
        for m in members { XCTAssertTrue(m.hasPrefix(rel + "/d"), "member outside the dumped directory: \(m)") }
        let x = tmp.appendingPathComponent("x")
        try FileManager.default.createDirectory(at: x, withIntermediateDirectories: true)
        _ = try sh("tar -xpf \(Self.quote(dirTar.path)) -C \(Self.quote(x.path))")
        _ = try sh("diff -r \(Self.quote(src.appendingPathComponent("d").path)) \(Self.quote(x.appendingPathComponent(rel + "/d").path))")
        let times = "stat -c '%n %a %Y' big.bin sub small.txt"
        XCTAssertEqual(try sh("cd \(Self.quote(x.appendingPathComponent(rel + "/d").path)) && \(times)"),
                       try sh("cd \(Self.quote(src.appendingPathComponent("d").path)) && \(times)"), "modes and mtimes kept")
        // The hard link inside the dumped directory stays one (same inode after extraction).
        XCTAssertEqual(try sh("stat -c %i \(Self.quote(x.appendingPathComponent(rel + "/d/hardlink").path))"),
                       try sh("stat -c %i \(Self.quote(x.appendingPathComponent(rel + "/d/sub/g").path))"))

        // "/": the whole snapshot, the link included.
        let allTar = tmp.appendingPathComponent("all.tar")
        try ok(["dump", "latest", "--name", "tree", "/"]).stdout.write(to: allTar)
        let y = tmp.appendingPathComponent("y")
        try FileManager.default.createDirectory(at: y, withIntermediateDirectories: true)
        _ = try sh("tar -xpf \(Self.quote(allTar.path)) -C \(Self.quote(y.path))")
        _ = try sh("diff -r --no-dereference \(Self.quote(src.path)) \(Self.quote(y.appendingPathComponent(rel).path))")
        XCTAssertEqual(try sh("readlink \(Self.quote(y.appendingPathComponent(rel + "/link").path))"), "d/small.txt\n")
    }

    func testDumpOfAStreamSnapshot() throws {
        try initRepo()
        let data = TestData.random(300_000, seed: 9)
        try ok(["backup", "--stdin", "--name", "stream"], stdin: .data(data))
        let entries = try ok(["ls", "latest", "--name", "stream", "--json"]).jsonLines()
        let path = try XCTUnwrap(entries.first?["path"] as? String)
        XCTAssertEqual(try ok(["dump", "latest", "--name", "stream", path]).stdout, data)
    }

    func testBadPathsDamageAndATerminalFailCleanly() throws {
        try initRepo()
        let src = try makeSource()
        try ok(["backup", src.path, "--name", "tree"])
        let base = try snapshotPath(ofDirectoryNamed: "src")

        let missing = try failsOneLine(["dump", "latest", "--name", "tree", base + "/d/nope"])
        XCTAssertTrue(missing.err.contains("no such file or directory") && missing.err.contains("/d/nope"), missing.summary)
        XCTAssertEqual(missing.stdout, Data())
        let link = try failsOneLine(["dump", "latest", "--name", "tree", base + "/link"])
        XCTAssertTrue(link.err.contains("symbolic link to d/small.txt"), link.summary)
        XCTAssertEqual(link.stdout, Data())
        try fails(["dump", "latest", "--name", "tree"], code: 2)
        try fails(["dump", "latest", "--name", "tree", ""], code: 2)
        try fails(["dump", "nosuchsnapshot", "/"], code: 1)

        // Standard output a terminal (script(1) gives the command a pseudo-terminal): a usage error, nothing read.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/script") {
            let cmd = ([cli.binary.path, "dump", "latest", "--name", "tree", base + "/d/big.bin"]).map(Self.quote).joined(separator: " ")
            let pw = tmp.appendingPathComponent("pw")
            try write(Data(password.utf8), to: pw)
            chmod(pw.path, 0o600)
            let env = "CAIRN_REPO=\(Self.quote(repo.path)) CAIRN_CACHE_DIR=\(Self.quote(cache.path)) CAIRN_PASSWORD_FILE=\(Self.quote(pw.path))"
            let r = try Self.shell("\(env) script -qec \(Self.quote(cmd)) /dev/null")
            XCTAssertEqual(r.status, 2, r.out + r.err)
            XCTAssertTrue(r.out.contains("standard output is a terminal"), r.out)
        }

        // Damaged data: every pack's middle byte flipped; the dump fails naming the path instead of writing bad bytes.
        for pack in try packFiles() {
            let h = try FileHandle(forUpdating: pack)
            let mid = UInt64(Posix.fileSize(pack) / 2)
            try h.seek(toOffset: mid)
            let b = try h.read(upToCount: 1)![0]
            try h.seek(toOffset: mid)
            h.write(Data([b ^ 0xFF]))
            try h.close()
        }
        let bad = try fails(["dump", "latest", "--name", "tree", base + "/d/big.bin"], code: 1)
        XCTAssertTrue(bad.err.contains("big.bin"), bad.summary)
        XCTAssertLessThan(bad.stdout.count, 700_000)
    }
}
