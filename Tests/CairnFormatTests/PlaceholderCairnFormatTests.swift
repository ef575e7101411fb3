import XCTest
final class PlaceholderCairnFormatTestsTests: XCTestCase { func testNothing() {} }
