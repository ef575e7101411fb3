import CairnRedisClient
import XCTest

/// The drill's reading of `INFO keyspace` and its verdict on a loaded RDB, without a server.
final class RedisKeyspaceTests: XCTestCase {
    func testKeysOfEveryDatabaseAreSummed() {
        let info = "# Keyspace\r\ndb0:keys=12,expires=3,avg_ttl=0\r\ndb3:keys=5,expires=0,avg_ttl=0\r\n"
        XCTAssertEqual(RedisKeyspace.keyCount(info: info), 17)
        XCTAssertEqual(RedisKeyspace.keyCount(info: "# Keyspace\r\n"), 0)
        XCTAssertEqual(RedisKeyspace.keyCount(info: "db0:expires=1\r\ndb1:keys=x\r\ndb2:keys=4"), 4)
        XCTAssertEqual(RedisKeyspace.keyCount(info: "db0:keys=\(UInt64.max)\ndb1:keys=2"), UInt64.max)
    }

    func testALoadMayLackOnlyKeysWithATTL() {
        XCTAssertTrue(RedisKeyspace.loadMatches(loaded: 10, recorded: 10, expiring: 0))
        XCTAssertTrue(RedisKeyspace.loadMatches(loaded: 8, recorded: 10, expiring: 2))
        XCTAssertFalse(RedisKeyspace.loadMatches(loaded: 7, recorded: 10, expiring: 2))
        XCTAssertFalse(RedisKeyspace.loadMatches(loaded: 11, recorded: 10, expiring: 5))
        // The counts come from a snapshot anyone with the key can write: no overflow trap.
        XCTAssertTrue(RedisKeyspace.loadMatches(loaded: 10, recorded: 10, expiring: .max))
        XCTAssertTrue(RedisKeyspace.loadMatches(loaded: 1, recorded: .max, expiring: .max))
        XCTAssertFalse(RedisKeyspace.loadMatches(loaded: 0, recorded: .max, expiring: 1))
    }
}
