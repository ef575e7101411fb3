import XCTest
final class PlaceholderCairnEngineTestsTests: XCTestCase { func testNothing() {} }
