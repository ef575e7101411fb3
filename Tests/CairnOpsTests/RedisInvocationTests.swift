import CairnOps
import CairnPlan
import XCTest

/// A plan's redis source reaches `cairn redis backup` with its options,
/// `allow-no-checksum` included (issue 14.11).
final class RedisInvocationTests: XCTestCase {
    private func plan(_ extra: String) throws -> Plan {
        try PlanDecoder.decode("""
        [repository.onsite]
        url = "/backups/cairn"
        password-file = "/etc/cairn/onsite.pass"

        [source.cache]
        kind = "redis"
        repository = "onsite"
        url = "redis://127.0.0.1:6379"
        \(extra)
        """, file: "cairn.toml")
    }

    func testAllowNoChecksumIsPassedOnlyWhenSet() throws {
        let off = try XCTUnwrap(try plan("").source(named: "cache"))
        XCTAssertFalse(off.redisAllowNoChecksum)
        XCTAssertFalse(try BackupInvocation.arguments(for: off).get().contains("--allow-no-checksum"))
        let on = try XCTUnwrap(try plan("allow-no-checksum = true").source(named: "cache"))
        let args = try BackupInvocation.arguments(for: on).get()
        XCTAssertEqual(Array(args.prefix(2)), ["redis", "backup"])
        XCTAssertTrue(args.contains("--allow-no-checksum"), "\(args)")
        // Not a key of other kinds, and not a string.
        XCTAssertThrowsError(try plan("allow-no-checksum = \"yes\""))
        XCTAssertThrowsError(try PlanDecoder.decode("""
        [repository.onsite]
        url = "/b"
        password-file = "/p"
        [source.t]
        kind = "tree"
        repository = "onsite"
        paths = ["/x"]
        allow-no-checksum = true
        """, file: "cairn.toml"))
    }
}
