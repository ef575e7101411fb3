// Micro-benchmarks of Cairn's backup pipeline, stage by stage.
//
// Byte-throughput benchmarks process exactly 1 MiB per operation, so the
// "throughput (# / s)" column reads as MiB/s on one core. Index benchmarks do
// one lookup per operation (lookups/s). "Malloc (total)" counts allocations.
//
//     cd Benchmarks && swift package benchmark                 # all, release build
//     cd Benchmarks && swift package benchmark --filter 'Index.*'
import Benchmark
import CairnCompression
import CairnCrypto
import CairnEngine
import CairnRepository
import CairnFormat
import CairnIndex
import Foundation

let MiB = 1 << 20

/// Deterministic SQL-dump-like text (what `pg_dump -Fc -Z0` holds): tab-separated
/// rows from a small vocabulary, numbers and timestamps; compresses ~3-4x with zstd.
func dumpLikeBytes(_ count: Int, seed: UInt64 = 42) -> [UInt8] {
    let words = ["alpha", "bravo", "order", "invoice", "payment", "shipped", "pending", "berlin", "tokyo",
                 "customer", "account", "refund", "premium", "basic", "express", "warehouse", "session",
                 "token", "report", "daily", "the", "a", "of", "and", "to", "in", "for", "with"]
    var rng = SplitMix(seed)
    var out: [UInt8] = []
    out.reserveCapacity(count + 256)
    var row = 0
    while out.count < count {
        var line = "\(row)\t\(1 + rng.next() % 110_000)\t2024-0\(1 + rng.next() % 9)-1\(rng.next() % 10) 1\(rng.next() % 10):\(10 + rng.next() % 50):00+00\t"
        line += "\(rng.next() % 500).\(10 + rng.next() % 90)\t"
        for _ in 0..<(3 + rng.next() % 10) { line += words[Int(rng.next() % UInt64(words.count))] + " " }
        line += "\t{\"sku\": \"SKU-\(rng.next() % 99999)\", \"qty\": \(1 + rng.next() % 5)}\n"
        out += Array(line.utf8)
        row += 1
    }
    return Array(out.prefix(count))
}

func randomBytes(_ count: Int, seed: UInt64 = 7) -> [UInt8] {
    var rng = SplitMix(seed)
    var out = [UInt8](repeating: 0, count: count)
    out.withUnsafeMutableBytes { p in
        let words = p.bindMemory(to: UInt64.self)
        for i in 0..<words.count { words[i] = rng.next() }
    }
    return out
}

struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `count` slices of `data` of 16 KiB each (the dump profile's average), covering 1 MiB.
func chunks16K(_ data: [UInt8], offsetMiB: Int) -> [[UInt8]] {
    let base = (offsetMiB * MiB) % max(data.count - MiB + 1, 1)
    return (0..<64).map { i in Array(data[(base + i * 16384)..<(base + (i + 1) * 16384)]) }
}

let pool = 32 * MiB
let dumpData = dumpLikeBytes(pool)
let randomData = randomBytes(pool)
let dumpChunks: [[[UInt8]]] = (0..<8).map { chunks16K(dumpData, offsetMiB: $0 * 4) }
let randomChunks: [[[UInt8]]] = (0..<8).map { chunks16K(randomData, offsetMiB: $0 * 4) }
let keys = MasterKeys(master: [UInt8](repeating: 7, count: 32))

/// Cuts 1 MiB windows of `data` (a cut never looks past the window's end plus max).
@inline(__always)
func chunkOneMiB(_ cdc: FastCDC, _ all: UnsafeRawBufferPointer, window: Int, _ body: (Int, Int) -> Void) {
    let start = (window * MiB) % (all.count - 2 * MiB)
    var offset = start
    while offset < start + MiB {
        let n = cdc.cut(UnsafeRawBufferPointer(rebasing: all[offset..<min(all.count, offset + cdc.parameters.maximumSize)]))
        body(offset, n)
        offset += n
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .peakMemoryResident],
        scalingFactor: .one,
        maxDuration: .seconds(3),
        maxIterations: 100_000
    )

    // MARK: FastCDC

    for (profile, avg) in [("dump 16 KiB", 16384), ("rdb 8 KiB", 8192), ("wal 256 KiB", 262_144), ("file 64 KiB", 65536)] {
        Benchmark("FastCDC \(profile), 1 MiB/op") { benchmark in
            let cdc = try FastCDC(ChunkerParameters(averageSize: avg, seed: 0x1234_5678))
            dumpData.withUnsafeBytes { all in
                for i in benchmark.scaledIterations {
                    var cuts = 0
                    chunkOneMiB(cdc, all, window: i) { _, _ in cuts += 1 }
                    blackHole(cuts)
                }
            }
        }
    }

    // MARK: primitives on 16 KiB chunks (64 per op = 1 MiB)

    Benchmark("SHA-256 16 KiB chunks, 1 MiB/op") { benchmark in
        for i in benchmark.scaledIterations {
            for c in dumpChunks[i % 8] { blackHole(SHA256.hash(c)) }
        }
    }
    Benchmark("zstd-3 compress dump-like 16 KiB chunks, 1 MiB/op") { benchmark in
        for i in benchmark.scaledIterations {
            for c in dumpChunks[i % 8] { blackHole(try Zstd.shared.compress(c, level: 3)) }
        }
    }
    Benchmark("zstd-2 compress dump-like 16 KiB chunks, 1 MiB/op") { benchmark in
        // Level 2, a new repository's default: zstd's "fast" strategy for inputs this small.
        for i in benchmark.scaledIterations {
            for c in dumpChunks[i % 8] { blackHole(try Zstd.shared.compress(c, level: 2)) }
        }
    }
    Benchmark("zstd-3 compress random 16 KiB chunks, 1 MiB/op") { benchmark in
        for i in benchmark.scaledIterations {
            for c in randomChunks[i % 8] { blackHole(try Zstd.shared.compress(c, level: 3)) }
        }
    }
    Benchmark("zstd decompress dump-like 16 KiB chunks, 1 MiB/op") { benchmark in
        let compressed = try dumpChunks.map { try $0.map { try Zstd.shared.compress($0, level: 3) } }
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            for c in compressed[i % 8] { blackHole(try Zstd.shared.decompress(c, limit: 16384)) }
        }
    }
    Benchmark("AES-256-GCM seal 16 KiB chunks, 1 MiB/op") { benchmark in
        let key = [UInt8](repeating: 1, count: 32), aad = [UInt8](repeating: 2, count: 33)
        for i in benchmark.scaledIterations {
            for c in randomChunks[i % 8] { blackHole(try AESGCM.seal(c, key: key, aad: aad)) }
        }
    }
    Benchmark("SimilarityFeatures 16 KiB chunks, 1 MiB/op") { benchmark in
        for i in benchmark.scaledIterations {
            for c in dumpChunks[i % 8] { blackHole(SimilarityFeatures.of(c)) }
        }
    }

    // MARK: the per-chunk path of a backup, one core

    Benchmark("Pipeline chunk+hash+zstd-2+seal (BlobCodec), dump-like, 1 MiB/op") { benchmark in
        let cdc = try FastCDC(ChunkerParameters(averageSize: 16384, seed: keys.chunkerSeed))
        let codec = BlobCodec(keys: keys, level: RepositoryConfig.defaultCompressionLevel)
        try dumpData.withUnsafeBytes { all in
            for i in benchmark.scaledIterations {
                var err: Error?
                chunkOneMiB(cdc, all, window: i) { off, n in
                    let c = UnsafeRawBufferPointer(rebasing: all[off..<(off + n)])
                    let id = ChunkID(bytes: SHA256.hash(c))!
                    do { blackHole(try codec.seal(c, type: .data, id: id)) } catch { err = error }
                }
                if let err { throw err }
            }
        }
    }
    Benchmark("Pipeline chunk+hash+features+delta-seal vs 2%-edited base, dump-like, 1 MiB/op") { benchmark in
        // Each chunk is compared with a copy of itself with ~2 % of its bytes changed:
        // what --delta auto does for a changed chunk whose base was found.
        let codec = BlobCodec(keys: keys, level: RepositoryConfig.defaultCompressionLevel)
        var rng = SplitMix(99)
        let bases: [[[UInt8]]] = dumpChunks.map { $0.map { c in
            var b = c
            for _ in 0..<(c.count / 50 / 8) { b[Int(rng.next() % UInt64(c.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            return b
        } }
        let baseIDs = bases.map { $0.map { SHA256.id($0) } }
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            for (j, c) in dumpChunks[i % 8].enumerated() {
                let id = SHA256.id(c)
                blackHole(SimilarityFeatures.of(c))
                blackHole(try codec.sealPreferringDelta(c, id: id, base: baseIDs[i % 8][j], basePlaintext: bases[i % 8][j]))
            }
        }
    }
    Benchmark("Pipeline open+decompress+verify (restore), dump-like, 1 MiB/op") { benchmark in
        let codec = BlobCodec(keys: keys, level: RepositoryConfig.defaultCompressionLevel)
        let sealed = try dumpChunks.map { try $0.map { c -> ([UInt8], ChunkID) in
            let id = SHA256.id(c); return (try codec.seal(c, type: .data, id: id), id)
        } }
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            for (s, id) in sealed[i % 8] { blackHole(try codec.open(s, type: .data, id: id, rawLength: 16384)) }
        }
    }

    // MARK: index lookups on a populated SQLite cache (built once, on first use, outside the measurement)

    let indexConfig = Benchmark.Configuration(metrics: [.throughput, .wallClock, .mallocCountTotal, .peakMemoryResident],
                                              scalingFactor: .kilo, maxDuration: .seconds(2))
    Benchmark("Index contains (hit), 500k chunks, 1000 lookups/op", configuration: indexConfig) { benchmark in
        let (index, ids) = try indexFixture.get()
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            blackHole(try index.contains(ids[(i &* 7919) % ids.count], type: .data))
        }
    }
    Benchmark("Index contains (miss), 500k chunks, 1000 lookups/op", configuration: indexConfig) { benchmark in
        let (index, _) = try indexFixture.get()
        var rng = SplitMix(77)
        let misses = (0..<4096).map { _ in ChunkID(bytes: (0..<4).flatMap { _ in withUnsafeBytes(of: rng.next()) { Array($0) } })! }
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            blackHole(try index.contains(misses[i % misses.count], type: .data))
        }
    }
    Benchmark("Index lookup (hit), 500k chunks, 1000 lookups/op", configuration: indexConfig) { benchmark in
        let (index, ids) = try indexFixture.get()
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            blackHole(try index.lookup(ids[(i &* 7919) % ids.count], type: .data))
        }
    }
}

/// A cache holding 500,000 data blobs in 500 packs, at a fixed temporary path
/// (replaced on every run). Global lets are initialised once, lazily.
let indexFixture: Result<(RepositoryIndex, [ChunkID]), Error> = Result {
    let indexChunks = 500_000
    let dir = NSTemporaryDirectory() + "cairn-bench-index"
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let index = try RepositoryIndex(path: dir + "/index.sqlite")
    var rng = SplitMix(5)
    var ids: [ChunkID] = []
    ids.reserveCapacity(indexChunks)
    var packs: [IndexedPack] = []
    for p in 0..<(indexChunks / 1000) {
        var entries: [BlobEntry] = []
        for k in 0..<1000 {
            let id = ChunkID(bytes: (0..<4).flatMap { _ in withUnsafeBytes(of: rng.next()) { Array($0) } })!
            ids.append(id)
            entries.append(BlobEntry(type: .data, id: id, offset: UInt64(k * 6000), length: 6000, rawLength: 16384))
        }
        let packID = PackID(bytes: (0..<4).flatMap { _ in withUnsafeBytes(of: UInt64(p) &* 0x9E37_79B9_7F4A_7C15 &+ 1) { Array($0) } })!
        packs.append(IndexedPack(id: packID, type: .data, size: 6_000_000, entries: entries))
        if packs.count == 50 { try index.addPacks(packs, indexed: true); packs = [] }
    }
    try index.addPacks(packs, indexed: true)
    return (index, ids)
}
