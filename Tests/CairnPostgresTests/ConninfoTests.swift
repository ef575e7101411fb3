import CairnPostgres
import XCTest

/// libpq `key=value` connection strings as a drill reads them (which user and database to connect as).
final class ConninfoTests: XCTestCase {
    func testValuesQuotesAndEscapes() {
        let c = #"host=/run/postgresql  user = 'app owner' dbname=sales\ db password='it\'s'"#
        XCTAssertEqual(Conninfo.value(of: "host", in: c), "/run/postgresql")
        XCTAssertEqual(Conninfo.value(of: "user", in: c), "app owner")
        XCTAssertEqual(Conninfo.value(of: "dbname", in: c), "sales db")
        XCTAssertEqual(Conninfo.value(of: "password", in: c), "it's")
        XCTAssertNil(Conninfo.value(of: "port", in: c))
        XCTAssertEqual(Conninfo.value(of: "user", in: "user=a user=b"), "a")
        XCTAssertEqual(Conninfo.value(of: "dbname", in: "dbname=''"), "")
    }

    func testURIsMalformedAndTruncatedStringsGiveNothingAndNeverTrap() {
        XCTAssertNil(Conninfo.value(of: "user", in: "postgres://u@h/db"))
        XCTAssertNil(Conninfo.value(of: "user", in: "postgresql://u@h/db"))
        XCTAssertNil(Conninfo.value(of: "user", in: nil))
        XCTAssertNil(Conninfo.value(of: "user", in: "host"))
        XCTAssertNil(Conninfo.value(of: "user", in: "host=a user"))
        XCTAssertEqual(Conninfo.value(of: "user", in: "user='unterminated"), "unterminated")
        XCTAssertEqual(Conninfo.value(of: "user", in: #"user=trailing\"#), #"trailing\"#)
        XCTAssertEqual(Conninfo.value(of: "user", in: #"user='a\"#), #"a\"#)
        XCTAssertNil(Conninfo.value(of: "user", in: ""))
    }
}
