import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Cache directories for repositories a test opens in-process: each under one
/// directory of this test process, removed when the process exits, so that the
/// tests leave no `cairn-cache-*` directories behind in the temporary directory.
public enum TestCacheDirectory {
    /// This process's directory of caches.
    public static let root = NSTemporaryDirectory() + "cairn-test-caches-\(getpid())-\(UUID().uuidString.prefix(8))"

    /// Removes `root` at exit; registered once, by the first `make()`.
    private static let removedAtExit: Void = {
        atexit { try? FileManager.default.removeItem(atPath: TestCacheDirectory.root) }
    }()

    /// A new, not yet existing cache directory path (the repository creates it).
    public static func make() -> String {
        _ = removedAtExit
        return root + "/" + UUID().uuidString
    }
}
