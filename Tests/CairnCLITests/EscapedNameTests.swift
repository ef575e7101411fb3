import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Names that are not valid UTF-8 or hold control characters: human output
/// escapes them (one line per entry, distinct names distinct, nothing reaches
/// the terminal raw), JSON keeps them exact, `--include` takes them raw or
/// escaped.
final class EscapedNameTests: CLITestCase {
    /// Creates `dir/name` (raw bytes) holding `content`.
    private func makeFile(_ dir: URL, _ name: [UInt8], _ content: String) throws {
        let path = Array(dir.path.utf8) + [47] + name + [0]
        let fd = path.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { open($0, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
        }
        guard fd >= 0 else { throw XCTSkip("this file system refuses the name \(name): \(String(cString: strerror(errno)))") }
        _ = content.withCString { Glibc.write(fd, $0, strlen($0)) }
        close(fd)
    }

    /// Each weird name, and how `ls` must print it.
    private let names: [([UInt8], String)] = [
        (Array("caf".utf8) + [0xE9], "caf\\xe9"),
        (Array("caf".utf8) + [0xFF], "caf\\xff"),
        (Array("caf\u{FFFD}".utf8), "caf\u{FFFD}"),  // the replacement character itself is a printable name
        (Array("two\nlines".utf8), "two\\nlines"),
        (Array("tab\there".utf8), "tab\\there"),
        (Array("back\\slash".utf8), "back\\\\slash"),
        (Array("\u{1B}[31mred".utf8), "\\x1b[31mred"),
        (Array("bidi\u{202E}txt".utf8), "bidi\\u202etxt"),
        (Array("bell\u{07}".utf8), "bell\\x07"),
        (Array("ärger 🗂".utf8), "ärger 🗂"),
    ]

    func testLsEscapesJSONIsExactIncludeTakesBoth() throws {
        try initRepo()
        let src = try makeDir("raw")
        for (i, (name, _)) in names.enumerated() { try makeFile(src, name, "content \(i)") }
        _ = try backup([src.path])

        // Human: one line per entry (header-less), each name escaped, no raw control byte or invalid UTF-8.
        let ls = try ok(["ls", "latest"])
        let lines = ls.out.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        XCTAssertEqual(lines.count, names.count + depth(src), ls.out)   // src and the directories leading to it, then its files
        for (_, shown) in names {
            XCTAssertEqual(lines.filter { $0.hasSuffix(" " + src.path + "/" + shown) }.count, 1, "\(shown) in\n\(ls.out)")
        }
        XCTAssertFalse(ls.stdout.contains(where: { $0 < 0x20 && $0 != 0x0A }), "a control byte reached the terminal")
        XCTAssertTrue(String(data: ls.stdout, encoding: .utf8) != nil, "output is valid UTF-8")
        XCTAssertEqual(Set(lines).count, lines.count, "distinct names print distinctly")

        // JSON: exact strings; bytes that are not UTF-8 in path_raw (base64).
        let entries = try ok(["ls", "latest", "--json"]).jsonLines()
        var byRaw: [[UInt8]: [String: Any]] = [:]
        for e in entries {
            let path = try e.string("path")
            let bytes = (e["path_raw"] as? String).flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) } ?? Array(path.utf8)
            byRaw[bytes] = e
        }
        for (name, _) in names {
            let e = try XCTUnwrap(byRaw[Array((src.path + "/").utf8) + name], "no JSON entry for \(name)")
            let valid = String(decoding: name, as: UTF8.self).utf8.elementsEqual(name)
            XCTAssertEqual(e["path_raw"] == nil, valid, "\(e)")
            if valid { XCTAssertEqual(try e.string("path"), src.path + "/" + String(decoding: name, as: UTF8.self)) }
        }

        // --include with the escaped form ls printed.
        for (i, (name, shown)) in names.enumerated() {
            let out = tmp.appendingPathComponent("out-\(i)")
            try ok(["restore", "latest", "--target", out.path, "--include", src.path + "/" + shown])
            let got = listing(restored(src, under: out))
            XCTAssertEqual(got, [name], "--include \(src.path)/\(shown) restored \(got)")
        }
        // --include with the raw bytes (through the shell: a process's arguments are bytes).
        let out = tmp.appendingPathComponent("out-raw")
        let cmd = "\(Self.quote(cli.binary.path)) restore latest --target \(Self.quote(out.path)) --include \"$(printf '%s/caf\\351' \(Self.quote(src.path)))\""
        let r = try Self.shell("cd \(Self.quote(tmp.path)) && CAIRN_REPO=\(Self.quote(repo.path)) CAIRN_CACHE_DIR=\(Self.quote(cache.path)) CAIRN_PASSWORD=\(Self.quote(password)) \(cmd)")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(listing(restored(src, under: out)), [Array("caf".utf8) + [0xE9]])
        let rawEq = try Self.shell("cd \(Self.quote(tmp.path)) && CAIRN_REPO=\(Self.quote(repo.path)) CAIRN_CACHE_DIR=\(Self.quote(cache.path)) CAIRN_PASSWORD=\(Self.quote(password)) \(Self.quote(cli.binary.path)) restore latest --target \(Self.quote(out.path + "2")) --include=\"$(printf '%s/caf\\377' \(Self.quote(src.path)))\"")
        XCTAssertEqual(rawEq.status, 0, rawEq.err)
        XCTAssertEqual(listing(restored(src, under: URL(fileURLWithPath: out.path + "2"))), [Array("caf".utf8) + [0xFF]])
    }

    /// Snapshot names, hosts and tags with control characters: escaped in `snapshots`, exact in its JSON.
    func testSnapshotsEscapesNamesHostsAndTags() throws {
        try initRepo()
        let name = "evil\u{1B}[2Jname", host = "host\nforged  line", tag = "t\u{7}ag"
        _ = try backup(["--stdin", "--name", name, "--host", host, "--tag", tag], stdin: .data(Data("x".utf8)))
        let r = try ok(["snapshots"])
        let lines = r.out.split(separator: "\n")
        XCTAssertEqual(lines.count, 3, "header, one snapshot, count: \(r.out)")
        XCTAssertTrue(lines[1].contains("evil\\x1b[2Jname") && lines[1].contains("host\\nforged  line") && lines[1].contains("t\\x07ag"), r.out)
        XCTAssertFalse(r.stdout.contains(0x1B) || r.stdout.contains(0x07))
        let j = try snapshots()
        XCTAssertEqual(j.first?["name"] as? String, name)
        XCTAssertEqual(j.first?["host"] as? String, host)
        XCTAssertEqual(j.first?["tags"] as? [String], [tag])
    }

    /// A warning about a file with a newline in its name stays one line.
    func testWarningsEscapeNames() throws {
        var runner = cli!
        if Posix.isRoot {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { throw XCTSkip("needs setpriv as root") }
            runner.launcher = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        }
        let src = try makeDir("w")
        try makeFile(src, Array("se\ncret\u{1B}[2J".utf8), "x")
        try makeFile(src, Array("ok".utf8), "y")
        if Posix.isRoot { try Self.shell("chown -R 65534:65534 \(Self.quote(tmp.path))") }
        try Posix.chmod(src.path + "/se\ncret\u{1B}[2J", 0)
        XCTAssertEqual(try runner.run(["init"]).status, 0)
        let r = try runner.run(["backup", src.path])
        XCTAssertEqual(r.status, 3, r.summary)
        XCTAssertTrue(r.err.contains("/w/se\\ncret\\x1b[2J: cannot open"), r.summary)
        XCTAssertFalse(r.stderr.contains(0x1B), r.summary)
        XCTAssertTrue(r.errLines.allSatisfy { $0.hasPrefix("cairn: ") }, "every message line is whole: \(r.summary)")
    }

    /// Entry names of a directory (raw bytes), sorted.
    private func listing(_ dir: URL) -> [[UInt8]] {
        guard let d = opendir(dir.path) else { return [] }
        defer { closedir(d) }
        var out: [[UInt8]] = []
        while let e = readdir(d) {
            // Read the name in place (a record is shorter than the 256 bytes of d_name).
            let name = UnsafeRawPointer(e) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!
            let n = Array(UnsafeRawBufferPointer(start: name, count: strlen(name.assumingMemoryBound(to: CChar.self))))
            if n != [46] && n != [46, 46] { out.append(n) }
        }
        return out.sorted { $0.lexicographicallyPrecedes($1) }
    }
}
