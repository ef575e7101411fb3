// Makes a repository whose index names BLOBS data blobs, with no data: each pack is a sparse
// file of the size the index gives it, holding only its real sealed header at the end. What
// prune, scrub (without --read-data), index rebuild and the cache load hold per blob is then
// measured at any size on a few GB of disk (headers, index objects, the cache).
//
//     synth-repo REPO BLOBS [BLOBS_PER_PACK] [USED_PER_PACK]
//
// The passphrase comes from CAIRN_PASSWORD, the cache from CAIRN_CACHE_DIR. Two snapshots:
// "synthetic" uses USED_PER_PACK blobs of each pack in the first half of the packs (the second
// half becomes unused: a prune deletes it), and "real" holds one small real file, for a copy.
// Pack ids are random, not the hash of the pack: only a read of the data (scrub --read-data)
// would notice, and none is done.
import CairnCrypto
import CairnEngine
import CairnRepository
import CairnFormat
import CairnStorage
import Foundation

struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func id() -> ChunkID {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { buf in
            for i in 0..<4 { buf.baseAddress!.storeBytes(of: next(), toByteOffset: i * 8, as: UInt64.self) }
            return ChunkID(raw: UnsafeRawBufferPointer(buf))
        }
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("synth-repo: \(message)\n".utf8))
    exit(2)
}

let args = CommandLine.arguments
guard args.count >= 3, let blobs = Int(args[2]), blobs > 0 else {
    fail("usage: synth-repo REPO BLOBS [BLOBS_PER_PACK] [USED_PER_PACK]")
}
let root = args[1]
let perPack = args.count > 3 ? Int(args[3]) ?? 0 : 1000
let usedPerPack = args.count > 4 ? Int(args[4]) ?? -1 : 8
guard perPack > 0, usedPerPack >= 0, usedPerPack <= perPack else { fail("BLOBS_PER_PACK must be > 0 and USED_PER_PACK in 0...BLOBS_PER_PACK") }
let environment = ProcessInfo.processInfo.environment
let passphrase = Array((environment["CAIRN_PASSWORD"] ?? "bench").utf8)
let cacheBase = environment["CAIRN_CACHE_DIR"] ?? root + ".cache"

let store = LocalStore(root: root)
let repo = try await Repository.create(store: store, passphrase: passphrase, cacheBase: cacheBase)
let metadataKey = HMACSHA256.derive(key: repo.keys.master, label: KeyLabels.metadata)

/// The pack trailer of format-spec §9: the header sealed with the metadata key, then its length.
func trailer(_ type: PackType, _ entries: [BlobEntry]) throws -> [UInt8] {
    var out = try AESGCM.seal(PackHeader(type: type, entries: entries).encoded(), key: metadataKey, aad: KeyLabels.packHeaderAAD)
    let n = UInt32(out.count)
    out += [UInt8(n & 0xff), UInt8(n >> 8 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 24)]
    return out
}

var madeDirectories = Set<String>()
func path(ofPack id: PackID) throws -> String {
    let path = root + "/" + ObjectKey(.data, id.hex).path
    let directory = (path as NSString).deletingLastPathComponent
    if madeDirectories.insert(directory).inserted {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }
    return path
}

/// A pack file of `size` bytes that holds only `tail` at its end (the rest is a hole).
func writeSparse(_ path: String, size: UInt64, tail: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0, ftruncate(fd, off_t(size)) == 0 else { fail("cannot write \(path): \(String(cString: strerror(errno)))") }
    let written = tail.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, off_t(size) - off_t(tail.count)) }
    guard written == tail.count else { fail("cannot write \(path): \(String(cString: strerror(errno)))") }
    close(fd)
}

var rng = SplitMix64(state: UInt64(environment["SYNTH_SEED"] ?? "") ?? 0x5EED)
let rawLength: UInt32 = 16 << 10
let sealedLength: UInt32 = rawLength + 40
let packs = (blobs + perPack - 1) / perPack
var batch: [IndexedPack] = []
var batchEntries = 0
var used: [[ChunkID]] = []
let started = Date()
for p in 0..<packs {
    let n = min(perPack, blobs - p * perPack)
    var entries: [BlobEntry] = []
    entries.reserveCapacity(n)
    for i in 0..<n {
        entries.append(BlobEntry(type: .data, id: rng.id(), offset: UInt64(i) * UInt64(sealedLength), length: sealedLength, rawLength: rawLength))
    }
    let tail = try trailer(.data, entries)
    let size = UInt64(n) * UInt64(sealedLength) + UInt64(tail.count)
    let id = PackID(reinterpreting: rng.id())
    writeSparse(try path(ofPack: id), size: size, tail: tail)
    batch.append(IndexedPack(id: id, type: .data, size: size, entries: entries))
    batchEntries += n
    if p < packs / 2 && usedPerPack > 0 { used.append(entries.prefix(usedPerPack).map(\.id)) }
    if batchEntries >= 400_000 {
        try await repo.saveIndexDeltas(batch)
        batch = []; batchEntries = 0
    }
    if p % 10_000 == 0 && p > 0 {
        print("\(p * perPack) blobs in \(p) packs, \(Int(Date().timeIntervalSince(started))) s")
    }
}

// Metadata: trees sealed for real, in one metadata pack. Each directory holds up to 1000
// files; each file uses one pack's USED_PER_PACK blobs.
var metaBytes: [UInt8] = []
var metaEntries: [BlobEntry] = []
func storeTree(_ tree: Tree) throws -> ChunkID {
    let plain = tree.encoded()
    let id = SHA256.id(plain)
    let sealed = try repo.codec.seal(plain, type: .tree, id: id)
    metaEntries.append(BlobEntry(type: .tree, id: id, offset: UInt64(metaBytes.count), length: UInt32(sealed.count), rawLength: UInt32(plain.count)))
    metaBytes += sealed
    return id
}
func name(_ s: String) -> [UInt8] { Array(s.utf8) }
var directories: [Node] = []
for start in stride(from: 0, to: used.count, by: 1000) {
    let files = used[start..<min(start + 1000, used.count)].enumerated().map { i, ids in
        Node(name: name("f\(start + i)"), kind: .file, size: UInt64(ids.count) * UInt64(rawLength), content: ContentRef(ids: ids))
    }
    directories.append(Node(name: name("d\(start / 1000)"), kind: .directory, mode: 0o755, subtree: try storeTree(Tree(nodes: files))))
}
let syntheticRoot = try storeTree(Tree(nodes: directories))

// One small real file (a real, readable data blob in a real pack).
var plain = [UInt8](repeating: 0, count: 4096)
for i in stride(from: 0, to: plain.count, by: 8) { withUnsafeBytes(of: rng.next()) { for (j, b) in $0.enumerated() { plain[i + j] = b } } }
let realID = SHA256.id(plain)
let realSealed = try repo.codec.seal(plain, type: .data, id: realID)
let realEntry = BlobEntry(type: .data, id: realID, offset: 0, length: UInt32(realSealed.count), rawLength: UInt32(plain.count))
let realPack = realSealed + (try trailer(.data, [realEntry]))
let realPackID = SHA256.packID(realPack)
try await store.put(ObjectKey(.data, realPackID.hex), realPack)
let realRoot = try storeTree(Tree(nodes: [Node(name: name("real"), kind: .file, size: UInt64(plain.count), content: ContentRef(ids: [realID]))]))

let metaPack = metaBytes + (try trailer(.metadata, metaEntries))
let metaPackID = SHA256.packID(metaPack)
try await store.put(ObjectKey(.data, metaPackID.hex), metaPack)
batch.append(IndexedPack(id: realPackID, type: .data, size: UInt64(realPack.count), entries: [realEntry]))
batch.append(IndexedPack(id: metaPackID, type: .metadata, size: UInt64(metaPack.count), entries: metaEntries))
try await repo.saveIndexDeltas(batch)

let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
let synthetic = try await repo.saveSnapshot(Snapshot(timeNanos: now, name: "synthetic", host: "bench", paths: ["/synthetic"],
                                                     sourceKind: "tree", root: syntheticRoot, fileCount: UInt64(used.count)))
let real = try await repo.saveSnapshot(Snapshot(timeNanos: now + 1, name: "real", host: "bench", paths: ["/real"],
                                                sourceKind: "tree", root: realRoot, fileCount: 1))
print("made \(blobs) data blobs in \(packs) packs (+ \(metaEntries.count) trees) in \(Int(Date().timeIntervalSince(started))) s; snapshots \(synthetic.prefix(8)) (synthetic, uses \(used.count * usedPerPack) blobs) and \(real.prefix(8)) (real)")
