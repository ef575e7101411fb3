import CairnTestSupport
import Foundation
import XCTest

/// Every `cairn` process (PostgreSQL starts one per WAL segment) starts without libcurl, libpq and
/// libfuse3 and the libraries they bring: those are loaded on first use (Sources/CLazyLoad).
/// The dynamic loader's own list (ld.so's trace mode, what `ldd` prints) is the evidence; a
/// module that links one of them again (`import FoundationNetworking` links libcurl) fails here.
final class StartupLibrariesTests: XCTestCase {
    func testCairnStartsWithoutTheLibrariesOnlySomeCommandsNeed() throws {
        let scratch = try makeTempDir("startup-libraries")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var environment = ProcessInfo.processInfo.environment
        environment["LD_TRACE_LOADED_OBJECTS"] = "1"
        let traced = try TestProcess.run(CairnBinary.path(), ["--version"], environment: environment, scratch: scratch, timeout: 60)
        XCTAssertEqual(traced.status, 0, traced.err)
        let loaded = traced.out.split(separator: "\n").compactMap { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) }
        // The list is the real one: the C libraries every command uses are in it.
        for needed in ["libc.so.6", "libsqlite3.so.0", "libzstd.so.1", "libcrypto.so.3"] {
            XCTAssertTrue(loaded.contains { $0.hasPrefix(needed) }, "\(needed) not in the loader's list:\n\(traced.out)")
        }
        for lazy in ["libcurl.so", "libpq.so", "libfuse3.so", "libgssapi_krb5.so", "libldap", "libnghttp2.so", "libssh2.so"] {
            XCTAssertFalse(loaded.contains { $0.hasPrefix(lazy) }, "\(lazy) is loaded at every start:\n\(traced.out)")
        }
    }
}
