import CairnCrypto
import CairnFormat
import Foundation

/// Writes repository objects the way an attacker who holds the key would:
/// from format-spec/v1.md alone, with the spec's primitives (AES-256-GCM,
/// HMAC-SHA256, scrypt, SHA-256) and none of Cairn's writers or their checks.
/// The encodings below are written out by hand from the spec's tables, so a
/// test can forge what no honest writer produces: absurd counts, lengths and
/// sizes, shared subtrees, key files with any parameters.
struct Forger {
    let repository: URL
    let master: [UInt8]
    let metadataKey: [UInt8]
    let blobRoot: [UInt8]

    /// Unwraps the master key from the repository's key files (§6) with `passphrase`.
    init(repository: URL, passphrase: String) throws {
        self.repository = repository
        let dir = repository.appendingPathComponent("keys")
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
            guard let master = Self.unwrap(keyFile: bytes, passphrase: Array(passphrase.utf8)) else { continue }
            self.master = master
            metadataKey = HMACSHA256.derive(key: master, label: "cairn v1 metadata key")
            blobRoot = HMACSHA256.derive(key: master, label: "cairn v1 blob key")
            return
        }
        throw ForgeError("no key file opens with the passphrase")
    }

    /// §6: header fields, then `data(sealedMasterKey)`; the header is the AAD. For a
    /// version-2 key file, the current (first) master key of its keyring.
    static func unwrap(keyFile b: [UInt8], passphrase: [UInt8]) -> [UInt8]? {
        unwrapKeyring(keyFile: b, passphrase: passphrase)?.first?.master
    }

    /// §6 version 2: `u8 count ‖ count × (u32le generation ‖ master key)`, newest first
    /// (a version-1 key file: its one key as generation 0).
    static func unwrapKeyring(keyFile b: [UInt8], passphrase: [UInt8]) -> [(generation: UInt32, master: [UInt8])]? {
        guard let plain = unwrapSealed(keyFile: b, passphrase: passphrase) else { return nil }
        if b[4] == 1 { return [(0, plain)] }
        var r = Reader(bytes: plain, at: 0)
        guard let n = r.u8() else { return nil }
        var out: [(generation: UInt32, master: [UInt8])] = []
        for _ in 0..<n {
            guard let g = r.u32(), let m = r.raw(32) else { return nil }
            out.append((g, m))
        }
        return r.at == plain.count ? out : nil
    }

    private static func unwrapSealed(keyFile b: [UInt8], passphrase: [UInt8]) -> [UInt8]? {
        guard b.count > 60, Array(b[0..<4]) == Array("CRNK".utf8), b[4] == 1 || b[4] == 2, b[5] == 0, b[6] == 1 else { return nil }
        var r = Reader(bytes: b, at: 7)
        guard let logN = r.u8(), let rr = r.u32(), let p = r.u32(), let salt = r.raw(32), r.raw(8) != nil,
              r.data() != nil, r.data() != nil else { return nil }
        let headerEnd = r.at
        guard let sealed = r.data(), r.at == b.count else { return nil }
        guard let kek = try? Scrypt.derive(passphrase: passphrase, salt: salt, parameters: ScryptParameters(logN: logN, r: rr, p: p)) else { return nil }
        return try? AESGCM.open(sealed, key: kek, aad: Array(b[0..<headerEnd]))
    }

    // MARK: primitive encodings (§1)

    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        out.append(UInt8(v))
        return out
    }
    static func u32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func u64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func data(_ b: [UInt8]) -> [UInt8] { varint(UInt64(b.count)) + b }
    static func string(_ s: String) -> [UInt8] { data(Array(s.utf8)) }
    static func sha256(_ b: [UInt8]) -> [UInt8] { SHA256.hash(b) }
    static func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

    // MARK: key files (§6), forged without any key

    /// A key file with any parameters: a random wrap that opens with no passphrase (junk an attacker adds).
    static func junkKeyFile(logN: UInt8, r: UInt32, p: UInt32, host: String = "attacker", user: String = "mallory", salt: [UInt8]? = nil) -> [UInt8] {
        var b = Array("CRNK".utf8) + [1, 0, 1, logN] + u32(r) + u32(p)
        b += salt ?? (0..<32).map { _ in UInt8.random(in: 0...255) }
        b += u64(UInt64(bitPattern: Int64(Date().timeIntervalSince1970 * 1e9)))
        b += string(host) + string(user)
        b += data((0..<60).map { _ in UInt8.random(in: 0...255) })
        return b
    }

    /// A genuine key file (§6) wrapping this repository's master key under `passphrase`, with any parameters.
    func keyFile(passphrase: String, logN: UInt8, r: UInt32 = 8, p: UInt32 = 1) throws -> [UInt8] {
        let salt = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let header = Array("CRNK".utf8) + [1, 0, 1, logN] + Self.u32(r) + Self.u32(p) + salt
            + Self.u64(UInt64(bitPattern: Int64(Date().timeIntervalSince1970 * 1e9))) + Self.string("forge") + Self.string("mallory")
        let kek = try Scrypt.derive(passphrase: Array(passphrase.utf8), salt: salt, parameters: ScryptParameters(logN: logN, r: r, p: p))
        return header + Self.data(try AESGCM.seal(master, key: kek, aad: header))
    }

    /// Stores a key file under the hex SHA-256 of its bytes, as §2 names it; returns the name.
    @discardableResult
    static func addKeyFile(_ bytes: [UInt8], to repository: URL, name: String? = nil) throws -> String {
        let n = name ?? hex(sha256(bytes))
        let url = repository.appendingPathComponent("keys/\(n)")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        return n
    }

    // MARK: trees (§12) and content references (§11)

    enum Kind: UInt8 { case file = 1, directory = 2, symlink = 3 }

    /// One node: every field of §12 in order; `tail` is the kind's payload.
    static func node(_ kind: Kind, name: String, size: UInt64 = 0, mode: UInt32 = 0o644, tail: [UInt8]) -> [UInt8] {
        [kind.rawValue] + data(Array(name.utf8)) + u32(mode) + varint(0) + varint(0) + string("") + string("")
            + u64(1_700_000_000_000_000_000) + u64(1_700_000_000_000_000_000) + varint(1) + varint(1) + varint(size) + tail
    }
    static func fileNode(_ name: String, size: UInt64, content: [UInt8]) -> [UInt8] { node(.file, name: name, size: size, tail: content) }
    static func directoryNode(_ name: String, subtree: [UInt8]) -> [UInt8] { node(.directory, name: name, mode: 0o755, tail: subtree) }
    /// A tree of version 1 whose count says `count` (honest: the number of nodes given, which must be sorted by name).
    static func tree(_ nodes: [[UInt8]], count: UInt64? = nil) -> [UInt8] {
        [1] + varint(count ?? UInt64(nodes.count)) + nodes.flatMap { $0 }
    }
    static func contentRef(level: UInt8, ids: [[UInt8]], count: UInt64? = nil) -> [UInt8] {
        [level] + varint(count ?? UInt64(ids.count)) + ids.flatMap { $0 }
    }

    // MARK: blobs (§4, §8)

    struct Blob {
        let type: UInt8          // 0 data, 1 tree, 2 list
        let id: [UInt8]
        let sealed: [UInt8]
        let rawLength: UInt64
    }

    /// A blob stored raw (encoding 0) whose id is the SHA-256 of `content`.
    func blob(_ type: UInt8, _ content: [UInt8]) throws -> Blob {
        try blob(type, id: Self.sha256(content), encoded: [0] + content, rawLength: UInt64(content.count))
    }

    /// A blob with any id, encoded plaintext (`u8 encoding ‖ payload`) and recorded raw length.
    func blob(_ type: UInt8, id: [UInt8], encoded: [UInt8], rawLength: UInt64) throws -> Blob {
        let key = HMACSHA256.mac(key: blobRoot, message: [type] + id)
        let sealed = try AESGCM.seal(encoded, key: key, aad: Array("cairn v1 blob".utf8) + [type] + id)
        return Blob(type: type, id: id, sealed: sealed, rawLength: rawLength)
    }

    /// One zstd frame (RFC 8878): `prefix` in raw blocks, then RLE blocks of `count` copies of
    /// `byte`, its header declaring `declared` bytes (default: the truth). About 4 bytes per
    /// 128 KiB of output: a few kilobytes that expand to gigabytes.
    static func zstdFrame(prefix: [UInt8] = [], repeating byte: UInt8 = 0, count: UInt64, declared: UInt64? = nil) -> [UInt8] {
        // Magic; descriptor 0xE0: 8-byte content size, single segment, no checksum, no dictionary.
        var f: [UInt8] = [0x28, 0xb5, 0x2f, 0xfd, 0xe0] + u64(declared ?? (UInt64(prefix.count) + count))
        func block(last: Bool, type: UInt32, size: Int) -> [UInt8] {
            let h = UInt32(last ? 1 : 0) | type << 1 | UInt32(size) << 3
            return [UInt8(h & 0xff), UInt8(h >> 8 & 0xff), UInt8(h >> 16 & 0xff)]
        }
        var at = 0
        while at < prefix.count {
            let n = min(prefix.count - at, 128 << 10)
            f += block(last: count == 0 && at + n == prefix.count, type: 0, size: n) + prefix[at..<at + n]
            at += n
        }
        var left = count
        while left > 0 {
            let n = min(left, 128 << 10)
            left -= n
            f += block(last: left == 0, type: 1, size: Int(n)) + [byte]
        }
        return f
    }

    // MARK: packs (§9), index deltas (§10), snapshots (§13)

    /// Writes one pack of `blobs` (data pack: type 0, metadata pack: type 1) and an index delta naming it.
    func store(_ blobs: [Blob], packType: UInt8) throws {
        var body: [UInt8] = [], entries: [UInt8] = []
        for b in blobs {
            entries += [b.type] + b.id + Self.varint(UInt64(body.count)) + Self.varint(UInt64(b.sealed.count)) + Self.varint(b.rawLength)
            body += b.sealed
        }
        let header = Array("CRNP".utf8) + [1, packType] + Self.varint(UInt64(blobs.count)) + entries
        let sealedHeader = try AESGCM.seal(header, key: metadataKey, aad: Array("cairn v1 pack header".utf8))
        let pack = body + sealedHeader + Self.u32(UInt32(sealedHeader.count))
        let packID = Self.sha256(pack)
        let name = Self.hex(packID)
        try write(pack, to: "data/\(name.prefix(2))/\(name)")
        let delta = [1] + Self.varint(0) + Self.varint(1) + packID + [packType] + Self.varint(UInt64(pack.count))
            + Self.varint(UInt64(blobs.count)) + entries
        let sealed = try sealObject("CRNI", delta)
        try write(sealed, to: "index/\(Self.hex(Self.sha256(sealed)))")
    }

    /// A snapshot object (§13) of a tree whose root is `root`; returns its id.
    @discardableResult
    func snapshot(root: [UInt8], name: String, logicalBytes: UInt64 = 0, timeNanos: Int64 = 1_800_000_000_000_000_000) throws -> String {
        let plain = [1] + Self.u64(UInt64(bitPattern: timeNanos)) + Self.string(name) + Self.string("forge") + Self.string("mallory")
            + Self.varint(0) + Self.varint(1) + Self.string("/forged") + Self.string("tree") + root + [0]
            + Self.varint(logicalBytes) + Self.varint(1) + Self.varint(1) + Self.varint(0) + Self.varint(0) + Self.string("forger")
        let sealed = try sealObject("CRNS", plain)
        let id = Self.hex(Self.sha256(sealed))
        try write(sealed, to: "snapshots/\(id)")
        return id
    }

    /// §5: magic ‖ u16le 1 ‖ seal(plaintext) under the metadata key with those 6 bytes as AAD.
    func sealObject(_ magic: String, _ plaintext: [UInt8]) throws -> [UInt8] {
        let header = Array(magic.utf8) + [1, 0]
        return header + (try AESGCM.seal(plaintext, key: metadataKey, aad: header))
    }

    func openObject(_ bytes: [UInt8]) throws -> [UInt8] {
        try AESGCM.open(Array(bytes[6...]), key: metadataKey, aad: Array(bytes[0..<6]))
    }

    func write(_ bytes: [UInt8], to relative: String) throws {
        let url = repository.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    /// Reads the spec's primitive encodings.
    /// §9: a pack's blob entries, from its header opened with `metadataKey`.
    static func packEntries(_ pack: [UInt8], metadataKey: [UInt8]) throws -> [(type: UInt8, id: [UInt8], sealed: [UInt8], base: [UInt8]?)] {
        guard pack.count >= 4 else { throw ForgeError("pack too short") }
        let hlen = Int(pack[pack.count - 4]) | Int(pack[pack.count - 3]) << 8 | Int(pack[pack.count - 2]) << 16 | Int(pack[pack.count - 1]) << 24
        guard hlen >= 28, hlen <= pack.count - 4 else { throw ForgeError("bad header length") }
        let plain = try AESGCM.open(Array(pack[(pack.count - 4 - hlen)..<(pack.count - 4)]), key: metadataKey, aad: Array("cairn v1 pack header".utf8))
        var r = Reader(bytes: plain, at: 0)
        guard r.raw(4) == Array("CRNP".utf8), r.u8() == 1, r.u8() != nil, let n = r.varint() else { throw ForgeError("bad pack header") }
        var out: [(type: UInt8, id: [UInt8], sealed: [UInt8], base: [UInt8]?)] = []
        for _ in 0..<n {
            guard let t = r.u8(), let id = r.raw(32), let offset = r.varint(), let length = r.varint(), r.varint() != nil,
                  Int(offset + length) <= pack.count else { throw ForgeError("bad pack entry") }
            let base = t & 0x80 != 0 ? r.raw(32) : nil
            out.append((t & 0x7f, id, Array(pack[Int(offset)..<Int(offset + length)]), base))
        }
        return out
    }

    /// §4: opens a sealed blob under `blobRoot` (nil when its tag does not open).
    static func openBlob(_ e: (type: UInt8, id: [UInt8], sealed: [UInt8], base: [UInt8]?), blobRoot: [UInt8]) -> [UInt8]? {
        let key = HMACSHA256.mac(key: blobRoot, message: [e.type] + e.id)
        return try? AESGCM.open(e.sealed, key: key, aad: Array("cairn v1 blob".utf8) + [e.type] + e.id + (e.base ?? []))
    }

    struct Reader {
        let bytes: [UInt8]
        var at: Int
        mutating func raw(_ n: Int) -> [UInt8]? {
            guard n >= 0, at + n <= bytes.count else { return nil }
            defer { at += n }
            return Array(bytes[at..<at + n])
        }
        mutating func u8() -> UInt8? { raw(1)?.first }
        mutating func u32() -> UInt32? { raw(4).map { $0.reversed().reduce(0) { $0 << 8 | UInt32($1) } } }
        mutating func varint() -> UInt64? {
            var v: UInt64 = 0
            for shift in stride(from: 0, to: 64, by: 7) {
                guard let b = u8() else { return nil }
                v |= UInt64(b & 0x7f) << UInt64(shift)
                if b & 0x80 == 0 { return v }
            }
            return nil
        }
        mutating func data() -> [UInt8]? { varint().flatMap { raw(Int(clamping: $0)) } }
    }
}

struct ForgeError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
