import XCTest
final class PlaceholderCairnCLITestsTests: XCTestCase { func testNothing() {} }
