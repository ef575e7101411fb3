import CairnTestSupport
import Foundation
import XCTest

/// `restore --tar` (CairnTarExport's `TarExport` through the real binary): the
/// stream extracted by GNU tar equals the source tree, byte for byte, with
/// modes, nanosecond times, symlinks and hard links.
final class TarRestoreTests: XCTestCase {
    var tmp: URL!
    var cairn: CairnRunner!

    override func setUpWithError() throws {
        cairn = try newRepository("tar-export")
        tmp = cairn.dir
    }

    private func q(_ u: URL) -> String { "'\(u.path)'" }

    func testRestoreAsTarExtractsIdenticallyWithGNUTar() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tar") || FileManager.default.isExecutableFile(atPath: "/bin/tar") else {
            throw XCTSkip("GNU tar is not installed")
        }
        let src = tmp.appendingPathComponent("src")
        let long = String(repeating: "long-directory-name-", count: 8) // > 155 bytes with the file name
        let script = """
        set -e
        mkdir -p \(q(src))/a/b/c \(q(src))/empty \(q(src))/\(long)/x
        head -c 300000 /dev/urandom > \(q(src))/a/b/c/random.bin
        printf 'hello\\n' > \(q(src))/a/hello.txt
        : > \(q(src))/a/empty-file
        printf 'x' > \(q(src))/\(long)/x/\(String(repeating: "f", count: 120)).txt
        printf 'naïve' > \(q(src))/a/café-ünïcode.txt
        ln -s b/c/random.bin \(q(src))/a/link-to-random
        ln -s /nonexistent/target \(q(src))/a/dangling
        ln \(q(src))/a/hello.txt \(q(src))/a/b/hard-link-to-hello
        chmod 0755 \(q(src))/a/hello.txt; chmod 0600 \(q(src))/a/b/c/random.bin; chmod 0750 \(q(src))/a/b
        touch -h -d '2001-02-03 04:05:06.123456789' \(q(src))/a/b/c/random.bin \(q(src))/a/link-to-random
        touch -d '1965-06-07 08:09:10' \(q(src))/a/empty-file
        touch -d '2020-01-01 00:00:00.5' \(q(src))/empty \(q(src))/a/b/c
        """
        XCTAssertEqual(try shell(script).status, 0)
        try cairn.ok(["backup", src.path, "--name", "tree"])
        let tarFile = tmp.appendingPathComponent("out.tar")
        let r = try cairn.run(["restore", "latest", "--name", "tree", "--tar"], stdoutFile: tarFile)
        XCTAssertEqual(r.status, 0, r.summary)
        let x = tmp.appendingPathComponent("x")
        try FileManager.default.createDirectory(at: x, withIntermediateDirectories: true)
        let extract = try shell("tar -xpf \(q(tarFile)) -C \(q(x)) 2>&1")
        XCTAssertEqual(extract.status, 0, extract.out)
        let diff = try shell("diff -r --no-dereference \(q(src)) \(q(URL(fileURLWithPath: x.path + src.path))) 2>&1")
        XCTAssertEqual(diff.status, 0, diff.out)
        // Modes, sizes, link counts (hard links came back as one inode), full mtimes, symlink targets.
        let listing = "cd %@ && find . -print0 | sort -z | xargs -0 stat -c '%%n %%F %%a %%s %%h %%y %%N'"
        let a = try shell(String(format: listing, q(src))).out, b = try shell(String(format: listing, q(URL(fileURLWithPath: x.path + src.path)))).out
        XCTAssertEqual(a, b)
        XCTAssertTrue(a.contains("123456789"), "nanosecond mtimes are in the comparison")
        // The archive is pax (GNU tar lists it without complaint) and names the hard link as a link.
        let list = try shell("tar -tvf \(q(tarFile)) 2>&1").out
        XCTAssertTrue(list.contains("link to"), list)
        // --include goes with --target only.
        try cairn.fails(["restore", "latest", "--name", "tree", "--tar", "--include", "a"], code: 2)
    }
}
