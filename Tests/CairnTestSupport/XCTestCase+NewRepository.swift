import Foundation
import XCTest

extension XCTestCase {
    /// The set-up most tests of the real binary share: a private temporary directory
    /// (`cairn-LABEL-…`), a repository `cairn init` made in it (`dir/repo`, its cache in
    /// `dir/cache`) and a runner for it (`runner.dir` is the directory). The directory is
    /// removed when the test ends, however it ends.
    public func newRepository(_ label: String, passphrase: String? = nil) throws -> CairnRunner {
        let dir = URL(fileURLWithPath: try temporaryDirectory(label))
        let runner = try passphrase.map { try CairnRunner(dir: dir, passphrase: $0) } ?? CairnRunner(dir: dir)
        try runner.ok(["init"])
        return runner
    }
}
