import Foundation

/// Finds the `cairn` executable that `swift build` / `swift test` put next to
/// the test bundle.
///
/// Order: `$CAIRN_BINARY`; the products directory of the running test bundle
/// (on Linux the `.xctest` file is an executable whose path is argv[0]; on
/// macOS it is a bundle run by `xctest`, found through `Bundle.allBundles`);
/// then `<package>/.build-cli/debug/cairn` and `<package>/.build/debug/cairn`
/// relative to this source file.
enum CairnBinary {
    static let located: Result<URL, LocateError> = locate()

    struct LocateError: Error, CustomStringConvertible {
        let tried: [String]
        var description: String {
            "cannot find the cairn executable; run 'swift build' first or set CAIRN_BINARY. Looked in:\n  "
                + tried.joined(separator: "\n  ")
        }
    }

    static func url() throws -> URL { try located.get() }

    private static func locate() -> Result<URL, LocateError> {
        let fm = FileManager.default
        var tried: [String] = []
        func check(_ path: String) -> URL? {
            let p = URL(fileURLWithPath: path).standardizedFileURL.path
            tried.append(p)
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: p, isDirectory: &isDir), !isDir.boolValue, fm.isExecutableFile(atPath: p) {
                return URL(fileURLWithPath: p)
            }
            return nil
        }
        if let explicit = ProcessInfo.processInfo.environment["CAIRN_BINARY"], !explicit.isEmpty {
            if let u = check(explicit) { return .success(u) }
            return .failure(LocateError(tried: tried))
        }
        // Directories that may be the products directory of this test run.
        var dirs: [URL] = []
        func addProducts(from path: String) {
            var u = URL(fileURLWithPath: path).standardizedFileURL
            // Walk up out of a bundle (…/debug/cairnPackageTests.xctest[/Contents/MacOS/x]).
            for _ in 0..<4 {
                let parent = u.deletingLastPathComponent()
                if u.pathExtension == "xctest" { dirs.append(parent); return }
                u = parent
            }
        }
        if let argv0 = ProcessInfo.processInfo.arguments.first { addProducts(from: argv0) }
        for arg in ProcessInfo.processInfo.arguments.dropFirst() where arg.hasSuffix(".xctest") { addProducts(from: arg) }
        for b in Bundle.allBundles where b.bundlePath.hasSuffix(".xctest") { addProducts(from: b.bundlePath) }
        addProducts(from: Bundle.main.bundlePath)
        if let argv0 = ProcessInfo.processInfo.arguments.first {
            dirs.append(URL(fileURLWithPath: argv0).deletingLastPathComponent())
        }
        for d in dirs {
            if let u = check(d.appendingPathComponent("cairn").path) { return .success(u) }
        }
        // Fall back to the usual scratch folders of this package.
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for scratch in [".build-cli", ".build"] {
            if let u = check(packageRoot.appendingPathComponent("\(scratch)/debug/cairn").path) { return .success(u) }
        }
        return .failure(LocateError(tried: tried))
    }
}
