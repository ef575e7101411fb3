import CairnStorage
import XCTest

/// `ByteBufferPool`: a buffer given back is handed out again (same storage,
/// empty), a buffer still shared is never reused, and the pool keeps no more
/// than its bounds.
final class ByteBufferPoolTests: XCTestCase {
    private func address(_ a: [UInt8]) -> UnsafeRawPointer? { a.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) } }

    func testARecycledBufferIsTakenAgainEmptyWithItsStorage() {
        let pool = ByteBufferPool(minimumCapacity: 1 << 10, maximumCapacity: 1 << 20, maximumBytes: 4 << 20, granule: 16 << 10)
        var a = pool.take(capacity: 60 << 10)
        XCTAssertGreaterThanOrEqual(a.capacity, 64 << 10, "rounded up to the granule")
        a.append(contentsOf: [UInt8](repeating: 7, count: 64 << 10))
        let storage = address(a)
        pool.recycle(&a)
        XCTAssertTrue(a.isEmpty, "the caller's array is emptied")
        XCTAssertEqual(pool.keptCount, 1)
        var b = pool.take(capacity: 62 << 10)
        XCTAssertTrue(b.isEmpty)
        XCTAssertEqual(address(b), storage, "the same storage comes back for a read of about the same size")
        XCTAssertEqual(pool.keptCount, 0)
        // Nothing kept fits a larger request: a new buffer.
        pool.recycle(&b)
        let d = pool.take(capacity: 512 << 10)
        XCTAssertNotEqual(address(d), storage)
        XCTAssertGreaterThanOrEqual(d.capacity, 512 << 10)
        XCTAssertEqual(pool.keptCount, 1, "the smaller one is still kept")
    }

    func testABufferStillSharedIsNeitherChangedNorKept() {
        let pool = ByteBufferPool(minimumCapacity: 1 << 10, maximumCapacity: 1 << 20, maximumBytes: 4 << 20, granule: 16 << 10)
        var a = pool.take(capacity: 64 << 10)
        a.append(contentsOf: (0..<(64 << 10)).map { UInt8(truncatingIfNeeded: $0) })
        let other = a
        pool.recycle(&a)
        XCTAssertEqual(pool.keptCount, 0, "a shared buffer is not reused")
        XCTAssertEqual(other.count, 64 << 10)
        XCTAssertEqual(other, (0..<(64 << 10)).map { UInt8(truncatingIfNeeded: $0) }, "the other holder keeps its bytes")
        // A buffer taken later is written without touching `other`.
        var b = pool.take(capacity: 64 << 10)
        b.append(contentsOf: [UInt8](repeating: 0xEE, count: 64 << 10))
        XCTAssertEqual(other.first, 0)
        XCTAssertEqual(other.last, 0xFF)
    }

    func testThePoolKeepsOnlyBuffersOfItsSizesUpToItsBytesAndInPlaceOfTakenOnes() {
        let pool = ByteBufferPool(minimumCapacity: 64 << 10, maximumCapacity: 256 << 10, maximumBytes: 500 << 10, granule: 1)
        // Nothing was taken (a restore from a local store): nothing given back is kept.
        var given = [UInt8](repeating: 1, count: 200 << 10)
        pool.recycle(&given)
        XCTAssertEqual(pool.keptCount, 0, "kept only in place of a buffer taken")
        for _ in 0..<6 { _ = pool.take(capacity: 100 << 10) }
        var small = [UInt8](repeating: 1, count: 16 << 10)
        pool.recycle(&small)
        var large = [UInt8](repeating: 1, count: 1 << 20)
        pool.recycle(&large)
        XCTAssertEqual(pool.keptCount, 0, "too small and too large are freed")
        for _ in 0..<4 {
            var b = [UInt8](repeating: 1, count: 200 << 10)
            pool.recycle(&b)
        }
        XCTAssertEqual(pool.keptCount, 2, "500 KiB hold two buffers of about 200 KiB")
        _ = pool.take(capacity: 1 << 10)
        XCTAssertEqual(pool.keptCount, 2, "a request below the minimum takes no kept buffer")
    }
}
