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
        throw missing("\(what) not found at \(path); install it (scripts/setup.sh)", file: file, line: line)
    }

    /// The error to throw when what a test needs is missing (`message` says what and how to
    /// install it): a skip, after failing the test where `CI=true`.
    public static func missing(_ message: String, file: StaticString = #filePath, line: UInt = #line) -> XCTSkip {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            XCTFail(message, file: file, line: line)
            return XCTSkip("failed: \(message)")
        }
        return XCTSkip(message)
    }
}
