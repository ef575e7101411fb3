import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A program a test needs (initdb, redis-server, moto): the test skips when it
/// is absent, and fails where `CI=true`, so that CI never passes by skipping.
public enum RequiredProgram {
    public static func require(_ path: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        if access(path, X_OK) == 0 { return path }
        let message = "\(what) not found at \(path); install it (scripts/setup.sh)"
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail(message, file: file, line: line)
            throw XCTSkip("failed: \(message)")
        }
        throw XCTSkip(message)
    }
}
