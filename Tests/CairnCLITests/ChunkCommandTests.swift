import CairnTestSupport
import Foundation
import XCTest

/// `cairn chunk`: cut points, their JSON, and equality with pyfastcdc.
final class ChunkCommandTests: CLITestCase {
    struct Chunk { let offset: Int; let length: Int; let sha256: String }

    func chunks(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> (chunks: [String: [Chunk]], summary: [String: Any]) {
        let lines = try ok(["chunk", "--json"] + args, env: ["CAIRN_REPO": nil, "CAIRN_PASSWORD": nil], file: file, line: line).jsonLines()
        guard let summary = lines.last, summary["file"] == nil else {
            XCTFail("no summary object last", file: file, line: line); throw CLIError.badJSON("no summary")
        }
        var out: [String: [Chunk]] = [:]
        for l in lines.dropLast() {
            out[try l.string("file"), default: []].append(Chunk(offset: try l.int("offset"), length: try l.int("length"), sha256: try l.string("sha256")))
        }
        return (out, summary)
    }

    /// Runs python3 with a script; nil when python3 is missing.
    func python(_ script: String, _ args: [String]) throws -> CLITestCase.ShellResult? {
        guard (try Self.shell("command -v python3")).status == 0 else { return nil }
        return try Self.shell("python3 -c \(Self.quote(script)) " + args.map(Self.quote).joined(separator: " "))
    }

    func requirePyfastcdc() throws {
        let r = try python("import pyfastcdc", [])
        if r?.status == 0 { return }
        throw RequiredProgram.missing("pyfastcdc is not installed (pip install pyfastcdc): \(r?.err ?? "no python3")")
    }

    func testJSONChunksAreContiguousCoverTheFileAndHashRight() throws {
        let f = tmp.appendingPathComponent("input.bin")
        let data = TestData.random(1 << 20, seed: 91) + TestData.text(300_000, seed: 92)
        try write(data, to: f)
        let (byFile, summary) = try chunks([f.path, "--avg", "4096"])
        let list = try XCTUnwrap(byFile[f.path])
        XCTAssertEqual(byFile.count, 1)
        var expectedOffset = 0
        for c in list {
            XCTAssertEqual(c.offset, expectedOffset, "chunks are contiguous")
            XCTAssertGreaterThan(c.length, 0)
            XCTAssertLessThanOrEqual(c.length, 16384, "max defaults to avg*4")
            XCTAssertEqual(c.sha256.count, 64)
            expectedOffset += c.length
        }
        XCTAssertEqual(expectedOffset, data.count, "chunks cover the file")
        for c in list.dropLast() { XCTAssertGreaterThanOrEqual(c.length, 1024, "min defaults to avg/4") }
        let mean = Double(data.count) / Double(list.count)
        XCTAssertTrue((2048...8192).contains(mean), "average chunk \(mean) near 4096")
        XCTAssertEqual(try summary.int("chunks"), list.count)
        XCTAssertEqual(try summary.int("bytes"), data.count)
        XCTAssertEqual(try summary.int("unique_chunks"), Set(list.map(\.sha256)).count)
        XCTAssertEqual(try summary.double("dedup_ratio"), 1.0, accuracy: 0.01)

        // The hashes are SHA-256 of the chunk bytes (checked with python's hashlib).
        let spans = list.map { "\($0.offset):\($0.length)" }.joined(separator: ",")
        let script = """
            import hashlib, sys
            d = open(sys.argv[1], 'rb').read()
            print(','.join(hashlib.sha256(d[int(o):int(o)+int(n)]).hexdigest() for o, n in (s.split(':') for s in sys.argv[2].split(','))))
            """
        if let r = try python(script, [f.path, spans]) {
            XCTAssertEqual(r.status, 0, r.err)
            XCTAssertEqual(r.out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").map(String.init), list.map(\.sha256))
        }

        // Nothing is stored and no repository is needed.
        XCTAssertFalse(FileManager.default.fileExists(atPath: repo.path))

        // The dedup estimate across files: the same file twice dedups 2:1.
        let copy = tmp.appendingPathComponent("copy.bin")
        try write(data, to: copy)
        let (two, s2) = try chunks([f.path, copy.path, "--avg", "4096"])
        XCTAssertEqual(two.count, 2)
        XCTAssertEqual(two[copy.path]?.map(\.sha256), list.map(\.sha256))
        XCTAssertEqual(try s2.double("dedup_ratio"), 2.0, accuracy: 0.01)
        XCTAssertEqual(try s2.int("unique_bytes"), data.count)
        // The human form: one line per chunk and a summary.
        let human = try ok(["chunk", f.path, "--avg", "4096"], env: ["CAIRN_REPO": nil]).out
        XCTAssertEqual(human.split(separator: "\n").count, list.count + 1)
        XCTAssertTrue(human.contains("dedup ratio"), human)
        // Errors.
        try failsOneLine(["chunk", tmp.appendingPathComponent("missing").path])
        try fails(["chunk", f.path, "--avg", "4096", "--min", "8192"], code: 2)
    }

    func testCutPointsEqualPyfastcdc() throws {
        try requirePyfastcdc()
        let script = """
            import json, sys
            from pyfastcdc import FastCDC
            avg, mn, mx, nc, seed = (int(a) for a in sys.argv[2:7])
            data = open(sys.argv[1], 'rb').read()
            cdc = FastCDC(avg, min_size=mn, max_size=mx, normalized_chunking=nc, seed=seed)
            print(json.dumps([[c.offset, c.length] for c in cdc.cut_buf(data)]))
            """
        let f = tmp.appendingPathComponent("random.bin")
        try write(TestData.random(3 << 20, seed: 93) + TestData.text(500_000, seed: 94), to: f)
        let cases: [(avg: Int, min: Int?, max: Int?, norm: Int?, seed: UInt64?)] = [
            (4096, nil, nil, nil, nil),
            (4096, nil, nil, nil, 0x5EED_1234_ABCD_0042),
            (16384, 4096, 65536, 2, 7),
            (65536, 16384, 262_144, 0, nil),
            (8192, 2048, 32768, 3, 0xFFFF_FFFF),
        ]
        for c in cases {
            var args = [f.path, "--avg", "\(c.avg)"]
            if let m = c.min { args += ["--min", "\(m)"] }
            if let m = c.max { args += ["--max", "\(m)"] }
            if let n = c.norm { args += ["--normalization", "\(n)"] }
            if let s = c.seed { args += ["--seed", "\(s)"] }
            let ours = try XCTUnwrap(try chunks(args).chunks[f.path]).map { [$0.offset, $0.length] }
            let py = try XCTUnwrap(try python(script, [f.path, "\(c.avg)", "\(c.min ?? c.avg / 4)", "\(c.max ?? c.avg * 4)",
                                                       "\(c.norm ?? 1)", "\(c.seed ?? 0)"]))
            XCTAssertEqual(py.status, 0, py.err)
            let theirs = try JSONDecoder().decode([[Int]].self, from: Data(py.out.utf8))
            XCTAssertEqual(ours.count, theirs.count, "chunk count for \(args)")
            XCTAssertTrue(ours == theirs, "cut points differ from pyfastcdc for \(args); first difference at chunk \(zip(ours, theirs).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(ours.count, theirs.count))")
        }
        // A seed changes the cut points.
        let plain = try chunks([f.path, "--avg", "4096"]).chunks[f.path]!.map(\.length)
        let seeded = try chunks([f.path, "--avg", "4096", "--seed", "12345"]).chunks[f.path]!.map(\.length)
        XCTAssertNotEqual(plain, seeded)
    }
}
