import CairnTar
import CairnTestSupport
import Foundation
import XCTest

/// Tar input: a daily tar series dedups uncompressed (and with --decompress) but not
/// gzip'd; compressed input is detected; --stdin-from-command fails the
/// snapshot when the command fails.
final class TarTests: XCTestCase {
    var tmp: URL!
    var cairn: CairnRunner!

    override func setUpWithError() throws {
        cairn = try newRepository("tar")
        tmp = cairn.dir
    }

    private func q(_ u: URL) -> String { "'\(u.path)'" }

    func testTarSeriesDedupsUncompressedAndDecompressedButNotGzip() throws {
        let dir = tmp.appendingPathComponent("data")
        XCTAssertEqual(try shell("mkdir -p \(q(dir)) && for i in $(seq 1 40); do head -c 75000 /dev/urandom | base64 > \(q(dir))/f$i.txt; done").status, 0)
        var rows: [String: [Int]] = [:]
        var plainTars: [URL] = []
        var gzSizes: [Int] = []
        for day in 0..<3 {
            if day > 0 {
                XCTAssertEqual(try shell("head -c 75000 /dev/urandom | base64 > \(q(dir))/f\(day).txt; head -c 75000 /dev/urandom | base64 > \(q(dir))/new\(day).txt").status, 0)
            }
            let plain = tmp.appendingPathComponent("day\(day).tar"), gz = tmp.appendingPathComponent("day\(day).tar.gz")
            XCTAssertEqual(try shell("tar --sort=name -cf \(q(plain)) -C \(q(dir)) . && gzip -c < \(q(plain)) > \(q(gz))").status, 0)
            plainTars.append(plain)
            gzSizes.append((try FileManager.default.attributesOfItem(atPath: gz.path)[.size] as? Int) ?? 0)
            let p = try cairn.ok(["backup", "--stdin", "--name", "tar-plain", "--json"], stdinFile: plain)
            XCTAssertFalse(p.err.contains("compressed"), p.summary)
            let g = try cairn.ok(["backup", "--stdin", "--name", "tar-gz", "--json"], stdinFile: gz)
            XCTAssertTrue(g.err.contains("gzip-compressed") && g.err.contains("--decompress"), g.summary)
            let d = try cairn.ok(["backup", "--stdin", "--decompress", "--name", "tar-decompressed", "--json"], stdinFile: gz)
            for (k, r) in [("plain", p), ("gzip", g), ("decompressed", d)] { rows[k, default: []].append(try r.json()["new_bytes"] as? Int ?? -1) }
        }
        print("tar stream daily series (40 text files of 100 kB; each day 1 rewritten, 1 added): new bytes per day \(rows), gzip sizes \(gzSizes)")
        for day in 1..<3 {
            // About the two changed members, plus a chunk or two around each.
            XCTAssertLessThan(rows["plain"]![day], 400_000, "day \(day) \(rows)")
            XCTAssertLessThan(rows["decompressed"]![day], 400_000, "day \(day) \(rows)")
            // gzip output is new from the first changed member on; members before it (f1…f19 sort
            // before f2) can still match when the directory's tar mtime (seconds) did not move
            // between two days, so the bound is half the gzip stream and several times plain's.
            XCTAssertGreaterThan(rows["gzip"]![day], gzSizes[day] / 2, "gzip should defeat dedup: \(rows), gzip sizes \(gzSizes)")
            XCTAssertGreaterThan(rows["gzip"]![day], 4 * rows["plain"]![day], "gzip should defeat dedup: \(rows)")
        }
        // --decompress stores (and restores) the decompressed tar.
        let out = tmp.appendingPathComponent("restored.tar")
        XCTAssertEqual(try cairn.run(["restore", "latest", "--name", "tar-decompressed", "--stdout"], stdoutFile: out).status, 0)
        XCTAssertEqual(try Data(contentsOf: out), try Data(contentsOf: plainTars.last!))
        let snaps = try cairn.ok(["snapshots", "--json", "--name", "tar-decompressed"]).out
        XCTAssertFalse(snaps.isEmpty)
    }

    func testStdinFromCommandAndCompressionSniffing() throws {
        let ok = try cairn.ok(["backup", "--stdin-from-command", "--name", "cmd", "--json", "--", "printf", "hello from a command"])
        XCTAssertEqual(try ok.json()["logical_bytes"] as? Int, 20)
        let out = tmp.appendingPathComponent("cmd.out")
        XCTAssertEqual(try cairn.run(["restore", "latest", "--name", "cmd", "--stdout"], stdoutFile: out).status, 0)
        XCTAssertEqual(try String(contentsOf: out, encoding: .utf8), "hello from a command")
        let failed = try cairn.fails(["backup", "--stdin-from-command", "--name", "cmd2", "--", "sh", "-c", "echo partial; exit 3"])
        XCTAssertTrue(failed.err.contains("exited with status 3") && failed.err.contains("no snapshot was saved"), failed.summary)
        try cairn.fails(["backup", "--stdin-from-command", "--name", "cmd3", "--", "/no/such/command"])
        XCTAssertEqual(try cairn.snapshotCount(name: "cmd2") + cairn.snapshotCount(name: "cmd3"), 0)
        // A damaged gzip stream with --decompress: the decompressor fails, so does the snapshot.
        let bad = tmp.appendingPathComponent("bad.gz")
        XCTAssertEqual(try shell("printf 'some text to compress, some text to compress' | gzip -c | head -c 30 > \(q(bad))").status, 0)
        try cairn.fails(["backup", "--stdin", "--decompress", "--name", "bad"], stdinFile: bad)
        XCTAssertEqual(try cairn.snapshotCount(name: "bad"), 0)
        // Usage errors.
        try cairn.fails(["backup", "--stdin-from-command", "--name", "x"], code: 2)
        try cairn.fails(["backup", "--decompress", tmp.path], code: 2)

        XCTAssertEqual(CompressionSniffer.detect([0x1f, 0x8b, 8, 0]), .gzip)
        XCTAssertEqual(CompressionSniffer.detect([0x28, 0xb5, 0x2f, 0xfd, 0, 0]), .zstd)
        XCTAssertEqual(CompressionSniffer.detect([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]), .xz)
        XCTAssertEqual(CompressionSniffer.detect(Array("BZh91AY".utf8)), .bzip2)
        XCTAssertNil(CompressionSniffer.detect(Array("REDIS0010".utf8)))
        XCTAssertNil(CompressionSniffer.detect(Array("BZhx".utf8)))
        XCTAssertNil(CompressionSniffer.detect([]))
    }

    func testPaxRecordsAndHeaderChecksum() {
        // The record length counts its own digits, across the 9→10 and 99→100 boundaries.
        for valueLength in 0..<300 {
            let r = TarWriter.record("path", [UInt8](repeating: 97, count: valueLength))
            let digits = r.prefix { $0 != 32 }
            XCTAssertEqual(Int(String(decoding: digits, as: UTF8.self)), r.count, "value of \(valueLength) bytes")
        }
        let h = TarWriter.header(for: TarEntry(path: Array("a/b.txt".utf8), kind: .file, mode: 0o644, mtimeNanos: 1_000_000_000, size: 5))
        XCTAssertEqual(h.count, 512)
        var copy = h
        for i in 148..<156 { copy[i] = 32 }
        let sum = copy.reduce(0) { $0 + Int($1) }
        XCTAssertEqual(Int(String(decoding: h[148..<154], as: UTF8.self), radix: 8), sum)
        XCTAssertEqual(Array(h[257..<263]), Array("ustar\0".utf8))
        // Sub-second or pre-1970 times go into a pax header.
        XCTAssertEqual(TarWriter.header(for: TarEntry(path: [97], kind: .file, mode: 0o644, mtimeNanos: -1)).count, 512 * 3)
    }
}
