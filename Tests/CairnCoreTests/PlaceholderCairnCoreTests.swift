import XCTest
final class PlaceholderCairnCoreTestsTests: XCTestCase { func testNothing() {} }
