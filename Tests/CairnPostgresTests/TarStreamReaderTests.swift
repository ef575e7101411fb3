import CairnTar
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
}
