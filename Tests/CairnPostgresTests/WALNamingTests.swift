import XCTest
@testable import CairnPostgres

/// The pure parts: LSN text, WAL file names, segment arithmetic, history files, exclusions, backup labels.
final class WALNamingTests: XCTestCase {
    func testLSNParsesAndPrints() throws {
        XCTAssertEqual(LSN("16/B374D848")?.value, 0x16_B374_D848)
        XCTAssertEqual(LSN(0x16_B374_D848).description, "16/B374D848")
        XCTAssertEqual(LSN("0/0")?.value, 0)
        for bad in ["", "1", "1/", "/1", "G/1", "123456789/0", "1/2/3"] { XCTAssertNil(LSN(bad), bad) }
        XCTAssertEqual(LSN("1/0")!.segment(size: 16 << 20), 256)
        XCTAssertEqual(LSN("0/2000028")!.segment(size: 16 << 20), 2)
    }

    func testFileNamesOfEveryKind() throws {
        let seg = try XCTUnwrap(WALFileName("000000020000000A000000FE"))
        XCTAssertEqual(seg.kind, .segment)
        XCTAssertEqual(seg.timeline, 2)
        XCTAssertEqual(seg.segmentNumber(segmentSize: 16 << 20), 0xA * 256 + 0xFE)
        XCTAssertEqual(WALFileName.segment(timeline: 2, number: 0xA * 256 + 0xFE, segmentSize: 16 << 20), "000000020000000A000000FE")
        // 64 MiB segments: 64 per log id.
        XCTAssertEqual(WALFileName.segment(timeline: 1, number: 65, segmentSize: 64 << 20), "000000010000000100000001")
        XCTAssertEqual(WALFileName("00000001000000000000000A.partial")?.kind, .partial)
        XCTAssertEqual(WALFileName("000000010000000000000002.00000028.backup")?.kind, .backup)
        let h = try XCTUnwrap(WALFileName("00000003.history"))
        XCTAssertEqual(h.kind, .history); XCTAssertEqual(h.timeline, 3)
        XCTAssertEqual(WALFileName.history(timeline: 3), "00000003.history")
        for bad in ["", "RECOVERYXLOG", "00000001000000000000000", "0000000100000000000000XG", "000000010000000000000001.foo",
                    "00000000000000000000000A", "0000000g.history", "../../etc/passwd"] {
            XCTAssertNil(WALFileName(bad), bad)
        }
    }

    func testHistoryFileParsesAndGivesThePath() throws {
        let text = "1\t0/3000158\tno recovery target specified\n\n2\t0/5000000\tbefore 2026-01-01 00:00:00+00\n"
        let h = try TimelineHistory.parse(text, timeline: 3)
        XCTAssertEqual(h.entries.map(\.timeline), [1, 2])
        XCTAssertEqual(h.path.map(\.timeline), [1, 2, 3])
        XCTAssertEqual(h.path.map(\.begin.description), ["0/0", "0/3000158", "0/5000000"])
        XCTAssertThrowsError(try TimelineHistory.parse("1\tnonsense\n", timeline: 2))
        XCTAssertThrowsError(try TimelineHistory.parse("4\t0/1\n", timeline: 2))
    }

    func testExclusionsFollowPostgreSQL() {
        XCTAssertTrue(PGDataExclusions.excludes("postmaster.pid", isDirectory: false))
        XCTAssertTrue(PGDataExclusions.excludes("pg_wal/000000010000000000000001", isDirectory: false))
        XCTAssertFalse(PGDataExclusions.excludes("pg_wal", isDirectory: true))
        XCTAssertFalse(PGDataExclusions.excludes("pg_wal/archive_status", isDirectory: true))
        XCTAssertTrue(PGDataExclusions.excludes("pg_wal/archive_status/000000010000000000000001.done", isDirectory: false))
        XCTAssertTrue(PGDataExclusions.excludes("pg_replslot/slot1", isDirectory: true))
        XCTAssertTrue(PGDataExclusions.excludes("base/5/pgsql_tmp", isDirectory: true))
        XCTAssertTrue(PGDataExclusions.excludes("global/pg_internal.init", isDirectory: false))
        XCTAssertFalse(PGDataExclusions.excludes("base/5/16384", isDirectory: false))
        XCTAssertFalse(PGDataExclusions.excludes("global/pg_control", isDirectory: false))
        XCTAssertFalse(PGDataExclusions.excludes("postgresql.auto.conf", isDirectory: false))
    }

    func testBackupLabel() throws {
        let text = "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\nCHECKPOINT LOCATION: 0/2000060\nBACKUP METHOD: streamed\nBACKUP FROM: primary\nSTART TIME: 2026-01-01 00:00:00 UTC\nLABEL: cairn\nSTART TIMELINE: 1\n"
        let l = try BackupLabel(parsing: text)
        XCTAssertEqual(l.startLSN, LSN("0/2000028")); XCTAssertEqual(l.startWALFile, "000000010000000000000002")
        XCTAssertEqual(l.timeline, 1); XCTAssertEqual(l.label, "cairn")
        XCTAssertThrowsError(try BackupLabel(parsing: "LABEL: x\n"))
    }
}
