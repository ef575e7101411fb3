import XCTest
import CairnFormat

/// Invariants of FastCDC cutting on seeded random inputs.
final class FastCDCPropertyTests: XCTestCase {
    /// Chunks tile the input in order, and their sizes respect the bounds: every
    /// chunk but the last is within [min rounded down to even, max] (the scan,
    /// like the reference, starts at an even position), the last is within [1, max].
    private func assertWellFormed(_ lengths: [Int], total: Int, _ p: ChunkerParameters, _ context: String,
                                  file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(lengths.reduce(0, +), total, "chunks do not cover the input: \(context)", file: file, line: line)
        XCTAssertEqual(lengths.isEmpty, total == 0, context, file: file, line: line)
        let floor = p.minimumSize & ~1
        for (i, n) in lengths.enumerated() {
            let isLast = i == lengths.count - 1
            if !(n <= p.maximumSize && n >= (isLast ? 1 : floor)) {
                XCTFail("chunk \(i) of \(lengths.count) has \(n) bytes: \(context)", file: file, line: line)
                return
            }
        }
    }

    func testEdgeSizesAndRandomSizes() throws {
        var rng = SplitMix64(seed: 0xC0FFEE)
        for round in 0..<40 {
            let p = FastCDCLiveTests.randomParameters(&rng)
            let chunker = try FastCDC(p)
            let stream = GeneratedInput.allCases[round % 4].bytes(seed: rng.next(), count: 3 * p.maximumSize + 2)
            var sizes = [0, 1, p.minimumSize - 1, p.minimumSize, p.minimumSize + 1, p.averageSize,
                         p.maximumSize - 1, p.maximumSize, p.maximumSize + 1, 3 * p.maximumSize + 2]
            sizes += (0..<4).map { _ in Int(rng.next() % UInt64(stream.count + 1)) }
            for size in sizes {
                let lengths = chunker.lengths(of: stream[..<size])
                assertWellFormed(lengths, total: size, p, "\(p), size \(size)")
                // Up to min bytes form a single chunk; so does anything up to max that has no cut.
                if size > 0 && size <= p.minimumSize { XCTAssertEqual(lengths, [size]) }
            }
            // `chunks(of:)` reports the same cuts with running offsets.
            let chunks = chunker.chunks(of: stream)
            XCTAssertEqual(chunks.map(\.length), chunker.lengths(of: stream))
            XCTAssertEqual(chunks.map(\.offset), chunks.indices.map { chunks[..<$0].reduce(0) { $0 + $1.length } })
        }
    }

    func testCutOfBufferWithoutCutIsMaximum() throws {
        // Zeros never cut at these parameters, so every chunk is exactly max.
        let p = ChunkerParameters(averageSize: 4096, normalization: 1)
        let lengths = try FastCDC(p).lengths(of: [UInt8](repeating: 0, count: 5 * p.maximumSize + 7))
        XCTAssertEqual(lengths, Array(repeating: p.maximumSize, count: 5) + [7])
    }

    func testOddMinimumMayGiveChunkOfMinimumMinusOne() throws {
        // The same crafted case as fastcdc.json: the seed cancels the masked
        // bits of gearLS[0], so zeros cut at the first scanned (even) position.
        let p = ChunkerParameters(minimumSize: 65, averageSize: 256, maximumSize: 1024, normalization: 0, seed: 0x18_0002_1300)
        XCTAssertEqual(try FastCDC(p).lengths(of: [UInt8](repeating: 0, count: 1000)), Array(repeating: 64, count: 15) + [40])
    }

    func testHundredMegabytes() throws {
        let start = ContinuousClock.now
        var rng = SplitMix64(seed: 100)
        let input = rng.bytes(100 << 20)
        let generated = ContinuousClock.now
        let p = ChunkerParameters(averageSize: 16 << 10, normalization: 1, seed: 0x5EED)
        let lengths = try FastCDC(p).lengths(of: input)
        let end = ContinuousClock.now
        assertWellFormed(lengths, total: input.count, p, "100 MiB")
        // Normalized chunking keeps the mean near the target (here about 1.2x avg).
        let mean = Double(input.count) / Double(lengths.count)
        XCTAssert((Double(p.averageSize)...Double(p.averageSize) * 1.6).contains(mean), "mean chunk \(mean)")
        // Printed, not asserted: speed goals live in Benchmarks/ (a timed unit test fails on a loaded machine).
        print("100 MiB: generated in \(generated - start), chunked in \(end - generated) (\(lengths.count) chunks, mean \(Int(mean)))")
    }

    /// Inserting or deleting bytes near the start changes only the first few
    /// cuts: after resynchronizing, the remaining cut points are the old ones
    /// shifted by the edit.
    func testCutPointsResynchronizeAfterEdit() throws {
        var rng = SplitMix64(seed: 77)
        for (avg, nc) in [(1024, 1), (16384, 1), (16384, 3), (65536, 0)] {
            let p = ChunkerParameters(averageSize: avg, normalization: UInt8(nc), seed: rng.next())
            let chunker = try FastCDC(p)
            let original = rng.bytes(200 * avg)
            let at = Int(rng.next() % 200) + 10
            for edit in [rng.bytes(1), rng.bytes(17), rng.bytes(avg / 2 + 3), []] {
                var changed = original
                if edit.isEmpty { changed.removeSubrange(at..<(at + 5)) } else { changed.insert(contentsOf: edit, at: at) }
                let shift = changed.count - original.count
                let before = Self.cutOffsets(chunker.lengths(of: original))
                let after = Set(Self.cutOffsets(chunker.lengths(of: changed)).map { $0 - shift })
                // The first old cut past the edit that survives, and everything after it.
                guard let sync = before.firstIndex(where: { $0 > at && after.contains($0) }) else {
                    XCTFail("never resynchronized: avg \(avg), edit \(edit.count)"); continue
                }
                XCTAssertLessThanOrEqual(sync, 4, "resynchronized only after \(sync) chunks: avg \(avg), edit \(edit.count)")
                for cut in before[sync...] { XCTAssert(after.contains(cut), "cut \(cut) lost: avg \(avg), edit \(edit.count)") }
            }
        }
    }

    func testSeedChangesCutPoints() throws {
        var rng = SplitMix64(seed: 5)
        let input = rng.bytes(1 << 20)
        let a = try FastCDC(ChunkerParameters(averageSize: 4096, seed: 0)).lengths(of: input)
        let b = try FastCDC(ChunkerParameters(averageSize: 4096, seed: 0x9E37_79B9)).lengths(of: input)
        XCTAssertNotEqual(a, b)
    }

    /// Documents a property the spec states: cut decisions only read hash bits
    /// 0...48 (the widest mask, shifted once), and shifts and adds never carry
    /// downwards, so seed bits 49...63 do not change any cut point.
    func testSeedBitsAbove48DoNotMatter() throws {
        var rng = SplitMix64(seed: 6)
        let input = rng.bytes(1 << 20)
        for avg in [256, 16384, 4 << 20] {
            for nc: UInt8 in [0, 3] {
                let seed = rng.next()
                let low = seed & ((1 << 49) - 1)
                let a = try FastCDC(ChunkerParameters(averageSize: avg, normalization: nc, seed: seed)).lengths(of: input)
                let b = try FastCDC(ChunkerParameters(averageSize: avg, normalization: nc, seed: low)).lengths(of: input)
                XCTAssertEqual(a, b, "avg \(avg) nc \(nc)")
            }
        }
    }

    private static func cutOffsets(_ lengths: [Int]) -> [Int] {
        var sum = 0
        return lengths.map { sum += $0; return sum }
    }
}
