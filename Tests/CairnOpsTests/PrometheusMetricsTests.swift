import CairnEngine
import CairnOps
import Foundation
import XCTest

/// `status` and `scrub` write their metrics through one writer (PrometheusText); the scrub file keeps the
/// exact bytes it had when ScrubCommand wrote it by hand (the node exporter and alert rules read these names).
final class PrometheusMetricsTests: XCTestCase {
    func testScrubMetricsOfADamagedScrubAreTheDocumentedBytes() {
        var r = ScrubReport()
        r.bytesVerified = 1234
        r.affectedNotListed = ["snap1": 3, "snap2": 1]
        r.orphanPacks = ["o1"]
        XCTAssertFalse(r.isClean)
        XCTAssertEqual(PrometheusMetrics.render(scrub: r, now: 1_700_000_000), """
            # HELP cairn_scrub_success 1 if the last scrub ran and found no damage.
            # TYPE cairn_scrub_success gauge
            cairn_scrub_success 0
            # HELP cairn_scrub_last_run_timestamp_seconds When the last scrub finished.
            # TYPE cairn_scrub_last_run_timestamp_seconds gauge
            cairn_scrub_last_run_timestamp_seconds 1700000000
            # HELP cairn_scrub_ran 1 if the last scrub could open the repository.
            # TYPE cairn_scrub_ran gauge
            cairn_scrub_ran 1
            # HELP cairn_scrub_bytes_verified Bytes of packs read and verified by the last scrub.
            # TYPE cairn_scrub_bytes_verified gauge
            cairn_scrub_bytes_verified 1234
            # HELP cairn_scrub_damaged_packs Damaged or missing packs found by the last scrub.
            # TYPE cairn_scrub_damaged_packs gauge
            cairn_scrub_damaged_packs 0
            # HELP cairn_scrub_damaged_blobs Damaged or missing blobs found by the last scrub.
            # TYPE cairn_scrub_damaged_blobs gauge
            cairn_scrub_damaged_blobs 0
            # HELP cairn_scrub_damaged_objects Unreadable key, index or snapshot objects.
            # TYPE cairn_scrub_damaged_objects gauge
            cairn_scrub_damaged_objects 0
            # HELP cairn_scrub_affected_snapshots Snapshots that cannot be fully restored.
            # TYPE cairn_scrub_affected_snapshots gauge
            cairn_scrub_affected_snapshots 2
            # HELP cairn_scrub_index_damage 1 if the index objects are damaged or miss blobs that packs hold (run 'cairn index rebuild --read-packs').
            # TYPE cairn_scrub_index_damage gauge
            cairn_scrub_index_damage 0
            # HELP cairn_scrub_orphan_packs Packs no index object names.
            # TYPE cairn_scrub_orphan_packs gauge
            cairn_scrub_orphan_packs 1

            """)
    }

    func testScrubMetricsWhenTheRepositoryCouldNotBeOpened() {
        XCTAssertEqual(PrometheusMetrics.render(scrub: nil, now: 5), """
            # HELP cairn_scrub_success 1 if the last scrub ran and found no damage.
            # TYPE cairn_scrub_success gauge
            cairn_scrub_success 0
            # HELP cairn_scrub_last_run_timestamp_seconds When the last scrub finished.
            # TYPE cairn_scrub_last_run_timestamp_seconds gauge
            cairn_scrub_last_run_timestamp_seconds 5
            # TYPE cairn_scrub_ran gauge
            cairn_scrub_ran 0

            """)
        XCTAssertTrue(PrometheusMetrics.render(scrub: ScrubReport(), now: 5).contains("\ncairn_scrub_success 1\n"))
    }

    func testLabelValuesAreEscapedAndTheFileIsReplacedWhole() throws {
        var t = PrometheusText()
        t.gauge("x", help: "h", [(labels: "name=\"\(PrometheusText.escape("a\"b\\c\nd"))\"", value: "1")])
        t.gauge("y", help: nil, [])
        XCTAssertEqual(t.text, "# HELP x h\n# TYPE x gauge\nx{name=\"a\\\"b\\\\c\\nd\"} 1\n# TYPE y gauge\n")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prom-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PrometheusText.write("old\n", to: dir + "/m.prom")
        try PrometheusText.write(t.text, to: dir + "/m.prom")
        XCTAssertEqual(try String(contentsOfFile: dir + "/m.prom", encoding: .utf8), t.text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/m.prom.tmp"))
        XCTAssertThrowsError(try PrometheusText.write("x", to: dir + "/no/such/dir/m.prom")) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot write the metrics file \(dir)/no/such/dir/m.prom"), "\(error)")
        }
    }

    func testExitStatusTableIsTheDocumentedContract() {
        XCTAssertEqual([ExitStatus.success, ExitStatus.failure, ExitStatus.usage, ExitStatus.partial, ExitStatus.damage,
                        ExitStatus.breach, ExitStatus.walUnavailable], [0, 1, 2, 3, 4, 5, 128])
        XCTAssertEqual(RunStep.exitCode([.init(step: "backup", target: "a", outcome: .ok)]), 0)
        XCTAssertEqual(RunStep.exitCode([.init(step: "backup", target: "a", outcome: .ok), .init(step: "scrub", target: "r", outcome: .warning)]), 3)
        XCTAssertEqual(RunStep.exitCode([.init(step: "backup", target: "a", outcome: .failed), .init(step: "scrub", target: "r", outcome: .warning)]), 1)
    }
}
