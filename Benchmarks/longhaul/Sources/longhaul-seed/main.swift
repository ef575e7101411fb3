// Grows a WAL archive's history fast: archives segments FIRST..<LAST (every STEP-th from FIRST)
// through the same calls as `cairn wal-push` (WalPushCommand: the read-only check, a shared lock,
// sync, WALArchive.push, the metadata merge when the lock is let go), but with the repository
// opened once, so that a push costs what the push itself costs, not a process start and a key
// unlock. Several seeders (STEP > 1, one FIRST each) are several writers at once.
//
//     longhaul-seed REPO_URL FIRST LAST SEGMENT_KIB [STEP]
//
// Segment N is a repeating 64 KiB block (the same seed as run.sh's segment) with N in decimal
// in its first 16 bytes, archived as 00000001 + N/256 + N%256 in hex (run.sh's seg_name).
// The passphrase comes from CAIRN_PASSWORD, the cache from CAIRN_CACHE_DIR, S3 credentials from
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_REGION, the WAL name from CAIRN_PG_WAL_NAME
// (default pg-wal). Prints one progress line every 1,000 segments to standard error.
import CairnEngine
import CairnPostgres
import CairnRepository
import CairnStorage
import CairnStores
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("longhaul-seed: \(message)\n".utf8))
    exit(2)
}

let args = CommandLine.arguments
guard args.count >= 5, let first = Int(args[2]), let last = Int(args[3]), let kib = Int(args[4]), first >= 0, last >= first, kib > 0 else {
    fail("usage: longhaul-seed REPO_URL FIRST LAST SEGMENT_KIB [STEP]")
}
let step = args.count > 5 ? Int(args[5]) ?? 0 : 1
guard step > 0 else { fail("STEP must be > 0") }
let environment = ProcessInfo.processInfo.environment
let passphrase = Array((environment["CAIRN_PASSWORD"] ?? "longhaul").utf8)
let cacheBase = environment["CAIRN_CACHE_DIR"] ?? NSTemporaryDirectory() + "/longhaul-seed-cache"
let walName = environment["CAIRN_PG_WAL_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "pg-wal"

/// run.sh's segment: Random(16).randbytes(64 KiB) repeated; any fixed block does, the archive only
/// needs each segment to differ from the others and to repeat inside itself.
var block = [UInt8](repeating: 0, count: 64 << 10)
var state: UInt64 = 16
for i in block.indices {
    state = state &* 6364136223846793005 &+ 1442695040888963407
    block[i] = UInt8(truncatingIfNeeded: state >> 33)
}
var segment = [UInt8]()
segment.reserveCapacity(kib << 10)
while segment.count < kib << 10 { segment += block.prefix((kib << 10) - segment.count) }

func segmentName(_ n: Int) -> String {
    "00000001" + String(format: "%08X%08X", n / 256, n % 256)
}

let store = try StoreRegistry.standard.store(for: args[1])
let repo = try await Repository.open(store: store, passphrase: passphrase, cacheBase: cacheBase)
let archive = WALArchive(repo: repo, name: walName)
let scratch = NSTemporaryDirectory() + "/longhaul-seed-\(getpid())"
defer { unlink(scratch) }
let started = Date()
var pushed = 0
for n in stride(from: first, to: last, by: step) {
    let header = Array(String(format: "%016d", n).utf8)
    segment.replaceSubrange(0..<16, with: header)
    guard FileManager.default.createFile(atPath: scratch, contents: Data(segment)) else { fail("cannot write \(scratch)") }
    let name = segmentName(n)
    // WalPushCommand.run, step for step.
    var outcome = try archive.check(path: scratch, fileName: name)
    if outcome == nil {
        let lock = try await LockManager(repo: repo).acquire(exclusive: false, operation: "wal-push \(name)", wait: 30)
        outcome = try await lock.holding {
            try await repo.sync()
            return try await archive.push(path: scratch, fileName: name)
        }
    }
    pushed += 1
    if pushed % 1000 == 0 {
        let rate = Double(pushed) / max(Date().timeIntervalSince(started), 0.001)
        FileHandle.standardError.write(Data("longhaul-seed: \(pushed) segments (\(name)), \(String(format: "%.1f", rate))/s\n".utf8))
    }
}
