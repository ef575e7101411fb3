@testable import CairnTar
import XCTest

/// The streaming tar reader against the tar writer: members survive any
/// split of the stream, long and non-ASCII paths through pax, truncation and
/// corruption are reported.
final class TarStreamReaderTests: XCTestCase {
    private func archive(_ entries: [(TarEntry, [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        for (e, content) in entries {
            out += TarWriter.header(for: e) + content + [UInt8](repeating: 0, count: TarWriter.padding(for: UInt64(content.count)))
        }
        return out + TarWriter.trailer
    }

    private func read(_ bytes: [UInt8], piece: Int) throws -> [(TarEntry, [UInt8])] {
        var reader = TarStreamReader()
        var out: [(TarEntry, [UInt8])] = []
        var i = 0
        while i < bytes.count {
            try reader.feed(bytes[i..<min(i + piece, bytes.count)]) { ev in
                switch ev {
                case .entry(let e): out.append((e, []))
                case .data(let d): out[out.count - 1].1 += d
                case .entryEnd: break
                }
            }
            i += piece
        }
        try reader.finish()
        return out
    }

    func testRoundTripInAnyPieces() throws {
        let long = Array(String(repeating: "deep/", count: 40).utf8) + Array("fïle".utf8)
        let big = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let entries: [(TarEntry, [UInt8])] = [
            (TarEntry(path: Array("global".utf8), kind: .directory, mode: 0o700), []),
            (TarEntry(path: Array("global/pg_control".utf8), kind: .file, mode: 0o600, mtimeNanos: 1_700_000_000_500_000_000, size: UInt64(big.count)), big),
            (TarEntry(path: long, kind: .file, mode: 0o640, size: 3), [1, 2, 3]),
            (TarEntry(path: Array("empty".utf8), kind: .file, mode: 0o600), []),
            (TarEntry(path: Array("link".utf8), kind: .symlink(target: Array("global/pg_control".utf8)), mode: 0o777), []),
        ]
        let bytes = archive(entries)
        for piece in [1, 7, 512, 1 << 20] {
            let got = try read(bytes, piece: piece)
            XCTAssertEqual(got.map { $0.0.path }, entries.map { $0.0.path }, "piece \(piece)")
            XCTAssertEqual(got.map { $0.1 }, entries.map { $0.1 }, "piece \(piece)")
            XCTAssertEqual(got.map { $0.0.kind }, entries.map { $0.0.kind })
            XCTAssertEqual(got[1].0.mtimeNanos, 1_700_000_000_500_000_000)
            XCTAssertEqual(got[2].0.mode, 0o640)
        }
    }

    func testTruncatedAndCorruptStreamsAreRefused() throws {
        let bytes = archive([(TarEntry(path: Array("a".utf8), kind: .file, mode: 0o600, size: 600), [UInt8](repeating: 7, count: 600))])
        XCTAssertThrowsError(try read(Array(bytes.prefix(1024)), piece: 100)) { XCTAssertTrue("\($0)".contains("truncated"), "\($0)") }
        var bad = bytes
        bad[10] ^= 0xff
        XCTAssertThrowsError(try read(bad, piece: 512)) { XCTAssertTrue("\($0)".contains("checksum"), "\($0)") }
        var fifo = TarWriter.header(for: TarEntry(path: Array("p".utf8), kind: .file, mode: 0o600))
        fifo[156] = UInt8(ascii: "6")
        for i in 148..<156 { fifo[i] = 32 }
        let sum = String(fifo.reduce(0) { $0 + Int($1) }, radix: 8)
        let field = Array((String(repeating: "0", count: 6 - sum.count) + sum).utf8) + [0, 32]
        fifo.replaceSubrange(148..<156, with: field)
        XCTAssertThrowsError(try read(fifo + TarWriter.trailer, piece: 512)) { XCTAssertTrue("\($0)".contains("not a regular file"), "\($0)") }
    }

    /// Any time (1600, 2300, Int64 seconds at both ends, -1.5 s) and extended
    /// attributes survive the writer and the reader; nothing traps.
    func testExtremeTimesAndAttributesRoundTrip() throws {
        let times: [(Int64, UInt32)] = [(0, 0), (-2, 500_000_000), (-1, 999_999_999), (-11_676_096_000, 0), (10_413_792_000, 123_456_789),
                                        (.min, 0), (.min, 1), (.max, 999_999_999), (-9_223_372_037, 145_224_192)]
        var entries: [(TarEntry, [UInt8])] = []
        for (i, (s, ns)) in times.enumerated() {
            var e = TarEntry(path: Array("f\(i)".utf8), kind: .file, mode: 0o600, size: 1)
            e.mtimeSeconds = s; e.mtimeNanoseconds = ns
            e.xattrs = [TarEntry.Attribute(name: Array("user.a".utf8), value: [0, 255, 61, 10]), TarEntry.Attribute(name: Array("user.e".utf8), value: [])]
            entries.append((e, [UInt8(i)]))
        }
        let got = try read(archive(entries), piece: 333)
        for (i, (s, ns)) in times.enumerated() {
            XCTAssertEqual(got[i].0.mtimeSeconds, s, "time \(i)")
            XCTAssertEqual(got[i].0.mtimeNanoseconds, ns, "time \(i)")
            XCTAssertEqual(got[i].0.xattrs, entries[i].0.xattrs)
        }
        // Int64 nanoseconds at both ends split without overflow.
        XCTAssertEqual(TarEntry(path: [97], kind: .file, mode: 0, mtimeNanos: .min).mtimeNanos, .min)
        XCTAssertEqual(TarEntry(path: [97], kind: .file, mode: 0, mtimeNanos: .max).mtimeNanos, .max)
        XCTAssertEqual(TarWriter.paxTime(-2, 500_000_000), "-1.5")
        XCTAssertEqual(TarWriter.paxTime(-1, 999_999_999), "-0.000000001")
        XCTAssertEqual(TarWriter.paxTime(.min, 1), "-9223372036854775807.999999999")
        XCTAssertEqual(TarStreamReader.paxTime("-1.5")?.0, -2)
        XCTAssertEqual(TarStreamReader.paxTime("-0.25")?.1, 750_000_000)
        XCTAssertNil(TarStreamReader.paxTime("-9223372036854775808.5"), "beyond Int64 seconds: ignored, not trapped")
        XCTAssertNil(TarStreamReader.paxTime("1.x"))
    }

    /// GNU tar's base-256 numbers, negative (0xff) ones included, as it writes times before 1970.
    func testBase256Numbers() throws {
        var f = [UInt8](repeating: 0xff, count: 12)
        f[11] = 0xfe  // -2
        XCTAssertEqual(try TarStreamReader.number(f[...], "mtime", 0), -2)
        var p = [UInt8](repeating: 0, count: 12)
        p[0] = 0x80; p[11] = 5
        XCTAssertEqual(try TarStreamReader.number(p[...], "mtime", 0), 5)
        XCTAssertThrowsError(try TarStreamReader.number([0x80] + [UInt8](repeating: 0xff, count: 11), "mtime", 0))
    }

    /// Absolute names, ".." components and hard-link targets that leave are refused by the reader itself.
    func testUnsafeNamesAreRefused() throws {
        for (path, kind) in [("/etc/passwd", TarEntry.Kind.file), ("a/../../b", .file), ("..", .directory),
                             ("ok", .hardLink(target: Array("../outside".utf8))), ("ok", .hardLink(target: Array("/etc/shadow".utf8)))] {
            let bytes = archive([(TarEntry(path: Array(path.utf8), kind: kind, mode: 0o644), [])])
            XCTAssertThrowsError(try read(bytes, piece: 512), path) { XCTAssertTrue("\($0)".contains("refused"), "\($0)") }
        }
        // A symbolic link's target is content, not a place to write: reported as it is.
        let link = archive([(TarEntry(path: Array("l".utf8), kind: .symlink(target: Array("/etc/passwd".utf8)), mode: 0o777), [])])
        XCTAssertEqual(try read(link, piece: 512).first?.0.kind, .symlink(target: Array("/etc/passwd".utf8)))
    }
}
