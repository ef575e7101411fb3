import Foundation
import XCTest

extension XCTestCase {
    /// A new private directory (`cairn-LABEL-…` in the temporary directory), removed when the test
    /// ends, however it ends. Call it from `setUp` or from the test itself.
    public func temporaryDirectory(_ label: String) throws -> String {
        let dir = try makeTempDir(label)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir.path
    }
}
