import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `cairn` executable the tests run: `CAIRN_BINARY`, else the one SwiftPM
/// built beside the test bundle.
public enum CairnBinary {
    public static func path() throws -> String {
        if let b = ProcessInfo.processInfo.environment["CAIRN_BINARY"], !b.isEmpty { return b }
        var dirs: [String] = []
        for arg in ProcessInfo.processInfo.arguments {
            var u = URL(fileURLWithPath: arg).standardizedFileURL
            for _ in 0..<4 where u.path != "/" {
                if u.pathExtension == "xctest" { dirs.append(u.deletingLastPathComponent().path) }
                u = u.deletingLastPathComponent()
            }
        }
        for b in Bundle.allBundles where b.bundlePath.hasSuffix(".xctest") {
            dirs.append(URL(fileURLWithPath: b.bundlePath).deletingLastPathComponent().path)
        }
        for d in dirs where access(d + "/cairn", X_OK) == 0 { return d + "/cairn" }
        throw TestSupportError("cannot find the cairn executable beside the tests; run swift build or set CAIRN_BINARY")
    }
}

/// A test-support failure with a message a person can act on.
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
