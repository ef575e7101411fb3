import CairnSystem
import CLazyLoad
import Foundation
import XCTest

/// The loader behind libcurl, libpq and libfuse3 (Sources/CLazyLoad): a missing library or
/// function is one line naming it and the package to install, nothing is bound by halves, a
/// failure is kept, and threads racing to load get one consistent result.
final class LazyLoadTests: XCTestCase {
    /// A library descriptor whose C strings and slot table live as long as the test's closure.
    private func withLibrary<T>(soname: String, symbols: [(name: String, version: String?)],
                                _ body: (UnsafeMutablePointer<cairn_lazy_library>, UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>) throws -> T) rethrows -> T {
        var owned: [UnsafeMutablePointer<CChar>] = []
        func c(_ s: String) -> UnsafePointer<CChar> { let p = strdup(s)!; owned.append(p); return UnsafePointer(p) }
        let slots = UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>.allocate(capacity: max(1, symbols.count))
        slots.initialize(repeating: nil)
        let table = UnsafeMutableBufferPointer<cairn_lazy_symbol>.allocate(capacity: max(1, symbols.count))
        for (i, s) in symbols.enumerated() {
            table[i] = cairn_lazy_symbol(name: c(s.name), version: s.version.map(c), slot: slots.baseAddress! + i)
        }
        let library = UnsafeMutablePointer<cairn_lazy_library>.allocate(capacity: 1)
        library.initialize(to: cairn_lazy_library())
        library.pointee.soname = c(soname)
        library.pointee.needed_by = c("the test")
        library.pointee.package = c("libexample9 (apt-get install libexample9)")
        library.pointee.symbols = UnsafePointer(table.baseAddress)
        library.pointee.symbol_count = symbols.count
        defer {
            library.deallocate(); table.deallocate(); slots.deallocate()
            owned.forEach { free($0) }
        }
        return try body(library, slots)
    }

    private func reason(_ library: UnsafeMutablePointer<cairn_lazy_library>) -> String? {
        cairn_lazy_load(library).map { String(cString: $0) }
    }

    func testAMissingLibraryIsOneLineNamingItAndThePackage() throws {
        try withLibrary(soname: "libcairn-no-such-library.so.9", symbols: [("cos", nil)]) { library, slots in
            let first = try XCTUnwrap(reason(library))
            XCTAssertTrue(first.hasPrefix("libcairn-no-such-library.so.9 is needed for the test but could not be loaded ("), first)
            XCTAssertTrue(first.contains("cannot open shared object file"), first)
            XCTAssertTrue(first.hasSuffix("; install libexample9 (apt-get install libexample9)"), first)
            XCTAssertFalse(first.contains("\n"))
            XCTAssertNil(slots[0])
            // Kept: the same line again, without another attempt.
            XCTAssertEqual(reason(library), first)
            XCTAssertEqual(library.pointee.state, 2)
            // As Swift callers see it.
            XCTAssertThrowsError(try LazyLibraryError.check(cairn_lazy_load(library))) { error in
                XCTAssertEqual(error as? LazyLibraryError, .unavailable(first))
                XCTAssertEqual("\(error)", first)
            }
        }
    }

    func testAMissingFunctionNamesItAndBindsNothing() throws {
        // libm is there, and its cos is found first: no slot may be written when a later symbol is missing.
        try withLibrary(soname: "libm.so.6", symbols: [("cos", nil), ("cairn_no_such_function", nil)]) { library, slots in
            let line = try XCTUnwrap(reason(library))
            XCTAssertTrue(line.hasPrefix("libm.so.6 (needed for the test) has no cairn_no_such_function ("), line)
            XCTAssertTrue(line.hasSuffix("install a current libexample9 (apt-get install libexample9)"), line)
            XCTAssertNil(slots[0])
            XCTAssertNil(slots[1])
        }
        // A symbol version the library does not define (libfuse's fuse_new@FUSE_3.1 is bound this way).
        try withLibrary(soname: "libm.so.6", symbols: [("cos", "CAIRN_NO_SUCH_VERSION")]) { library, slots in
            let line = try XCTUnwrap(reason(library))
            XCTAssertTrue(line.contains("has no cos@CAIRN_NO_SUCH_VERSION"), line)
            XCTAssertNil(slots[0])
        }
    }

    func testALoadedLibraryIsCalledThroughItsSlots() throws {
        try withLibrary(soname: "libm.so.6", symbols: [("cos", nil), ("pow", nil)]) { library, slots in
            XCTAssertNil(reason(library))
            XCTAssertNoThrow(try LazyLibraryError.check(cairn_lazy_load(library)))
            typealias Unary = @convention(c) (Double) -> Double
            typealias Binary = @convention(c) (Double, Double) -> Double
            let cosine = unsafeBitCast(try XCTUnwrap(slots[0]), to: Unary.self)
            let power = unsafeBitCast(try XCTUnwrap(slots[1]), to: Binary.self)
            XCTAssertEqual(cosine(0), 1)
            XCTAssertEqual(power(2, 10), 1024)
        }
    }

    func testThreadsRacingToLoadAllSeeTheLoadedLibrary() throws {
        withLibrary(soname: "libm.so.6", symbols: [("cos", nil), ("sin", nil)]) { library, slots in
            let threads = 16
            let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: threads)
            defer { results.deallocate() }
            results.initialize(repeating: false)
            let shared = UncheckedPointers(library: library, results: results, slots: slots)
            DispatchQueue.concurrentPerform(iterations: threads) { i in
                // Each caller that is told "loaded" must see every slot filled.
                let loaded = cairn_lazy_load(shared.library) == nil
                shared.results[i] = loaded && shared.slots[0] != nil && shared.slots[1] != nil
            }
            XCTAssertEqual(results.filter { $0 }.count, threads)
            XCTAssertEqual(library.pointee.state, 1)
        }
    }

    /// The descriptor and buffers handed to the racing threads (each writes only its own result).
    private struct UncheckedPointers: @unchecked Sendable {
        let library: UnsafeMutablePointer<cairn_lazy_library>
        let results: UnsafeMutableBufferPointer<Bool>
        let slots: UnsafeMutableBufferPointer<UnsafeMutableRawPointer?>
    }
}
