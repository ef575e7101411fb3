import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `cairn` executable the tests run (the one finder every test target uses).
///
/// Order: `$CAIRN_BINARY`; the products directory of the running test bundle
/// (on Linux the `.xctest` file is an executable whose path is argv[0]; on
/// macOS it is a bundle run by `xctest`, found through `Bundle.allBundles`);
/// then `<package>/.build-cli/debug/cairn` and `<package>/.build/debug/cairn`
/// relative to this source file.
public enum CairnBinary {
    private static let located: Result<String, TestSupportError> = locate()

    /// The executable's path, or an error listing where it was looked for.
    public static func path() throws -> String { try located.get() }

    /// `path()` as a file URL.
    public static func url() throws -> URL { URL(fileURLWithPath: try path()) }

    private static func locate() -> Result<String, TestSupportError> {
        var tried: [String] = []
        func check(_ path: String) -> String? {
            let p = URL(fileURLWithPath: path).standardizedFileURL.path
            tried.append(p)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDirectory), !isDirectory.boolValue, access(p, X_OK) == 0 else { return nil }
            return p
        }
        func failure() -> TestSupportError {
            TestSupportError("cannot find the cairn executable; run 'swift build' first or set CAIRN_BINARY. Looked in:\n  " + tried.joined(separator: "\n  "))
        }
        if let explicit = ProcessInfo.processInfo.environment["CAIRN_BINARY"], !explicit.isEmpty {
            return check(explicit).map { .success($0) } ?? .failure(failure())
        }
        // Directories that may be the products directory of this test run.
        var dirs: [URL] = []
        func addProducts(from path: String) {
            var u = URL(fileURLWithPath: path).standardizedFileURL
            // Walk up out of a bundle (…/debug/cairnPackageTests.xctest[/Contents/MacOS/x]).
            for _ in 0..<4 where u.path != "/" {
                if u.pathExtension == "xctest" { dirs.append(u.deletingLastPathComponent()); return }
                u = u.deletingLastPathComponent()
            }
        }
        for arg in ProcessInfo.processInfo.arguments { addProducts(from: arg) }
        for b in Bundle.allBundles where b.bundlePath.hasSuffix(".xctest") { addProducts(from: b.bundlePath) }
        addProducts(from: Bundle.main.bundlePath)
        if let argv0 = ProcessInfo.processInfo.arguments.first { dirs.append(URL(fileURLWithPath: argv0).deletingLastPathComponent()) }
        for d in dirs {
            if let p = check(d.appendingPathComponent("cairn").path) { return .success(p) }
        }
        // The usual scratch folders of this package.
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for scratch in [".build-cli", ".build"] {
            if let p = check(packageRoot.appendingPathComponent("\(scratch)/debug/cairn").path) { return .success(p) }
        }
        return .failure(failure())
    }
}

/// A test-support failure with a message a person can act on.
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
