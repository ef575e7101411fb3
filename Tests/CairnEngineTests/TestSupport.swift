@testable import CairnEngine
@testable import CairnRepository
import CairnFormat
import CairnIndex
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// Deterministic pseudo-random bytes (SplitMix64; `CairnTestSupport.RandomBytes`).
func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] { RandomBytes.make(count, seed: seed) }

/// A pipe fed from a background thread, so a stream backup can read it.
func withPipe<R>(_ bytes: [UInt8], _ body: (Int32) async throws -> R) async throws -> R {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw CairnError.io("pipe") }
    let (readEnd, writeEnd) = (fds[0], fds[1])
    let writer = Thread {
        bytes.withUnsafeBytes { b in
            var off = 0
            while off < b.count {
                let n = write(writeEnd, b.baseAddress! + off, b.count - off)
                if n <= 0 { break }
                off += n
            }
        }
        close(writeEnd)
    }
    writer.start()
    defer { close(readEnd) }
    return try await body(readEnd)
}

/// Backs up bytes as a stream snapshot.
func backupStream(_ repo: Repository, _ bytes: [UInt8], name: String = "stream", profile: String? = nil) async throws -> BackupResult {
    var options = BackupOptions(name: name)
    options.profile = profile
    return try await withPipe(bytes) { fd in try await Archiver(repo: repo, options: options).backup(streamFD: fd) }
}

/// Restores a stream snapshot into memory through a temp file.
func restoreStream(_ repo: Repository, _ id: String) async throws -> [UInt8] {
    let path = NSTemporaryDirectory() + "cairn-out-\(UUID().uuidString)"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    defer { unlink(path) }
    let record = try repo.resolveSnapshot(id)
    do {
        _ = try await Restorer(repo: repo, snapshot: record).restoreSingleFile(to: fd)
        close(fd)
    } catch { close(fd); throw error }
    return [UInt8](FileManager.default.contents(atPath: path) ?? Data())
}

/// A dump-like stream: rows of text; `day` scatters changed rows.
func dumpLikeStream(day: Int, rows: Int = 30_000) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(rows * 48)
    for i in 0..<rows {
        // About 2% of rows change each day, scattered.
        let version = (0...day).filter { (i &* 2654435761 &+ $0 &* 97) % 50 == 0 }.last ?? 0
        out += Array("\(i)\tuser\(i &* 7919 % 100_000)\t\((i &* 31 &+ version &* 17) % 100_000)\t2026-11-\(10 + version)\tactive\n".utf8)
    }
    return out
}

/// Every location the store's index objects give, in a dictionary (`StoreIndexView`
/// keeps them on disk; a test's repository is small enough to hold them).
struct StoreIndexSnapshot {
    let blobs: [StoreIndexView.BlobKey: BlobLocation]

    static func load(_ repo: Repository) async throws -> StoreIndexSnapshot {
        StoreIndexSnapshot(blobs: try await StoreIndexView.load(repo).allBlobLocations())
    }

    func dataLocation(_ id: ChunkID) -> BlobLocation? { blobs[StoreIndexView.BlobKey(id: id, type: .data)] }
}

/// The packs in `store` that no index object in it names (read through `repo`'s keys): what
/// scrub reports as index damage, and what writers sharing a cache once left behind.
func packsNamedByNoIndexObject(_ repo: Repository, in store: any ObjectStore) async throws -> Set<String> {
    Set(try await store.list(.data).map(\.name)).subtracting(try await timesNamed(repo).keys)
}

/// How many of the store's index objects name each pack (by its hex id).
func timesNamed(_ repo: Repository) async throws -> [String: Int] {
    var times: [String: Int] = [:]
    try await repo.readIndexObjects { key, read in
        guard case .delta(let delta, _) = read else { throw CairnError.other("index object \(key.name.prefix(12)) cannot be read") }
        for p in delta.packs { times[p.id.hex, default: 0] += 1 }
    }
    return times
}
