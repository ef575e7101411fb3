/// A named set of chunker sizes, chosen per kind of input.
public struct ChunkerProfile: Hashable, Sendable {
    public var name: String
    public var minimumSize: Int
    public var averageSize: Int
    public var maximumSize: Int
    public var normalization: UInt8

    public init(name: String, minimumSize: Int, averageSize: Int, maximumSize: Int, normalization: UInt8 = 1) {
        self.name = name; self.minimumSize = minimumSize; self.averageSize = averageSize
        self.maximumSize = maximumSize; self.normalization = normalization
    }

    /// The chunker parameters of this profile under a repository's secret seed.
    public func parameters(seed: UInt64) -> ChunkerParameters {
        ChunkerParameters(minimumSize: minimumSize, averageSize: averageSize, maximumSize: maximumSize,
                          normalization: normalization, seed: seed)
    }
}

/// The decrypted body of the `config` object: fixed when the repository is created.
public struct RepositoryConfig: Hashable, Sendable {
    /// Version 1: no chunker seed in the config. Version 2 appends one (written only when set).
    public static let version: UInt8 = 1
    public static let versionWithChunkerSeed: UInt8 = 2
    /// Version 3 adds the Object Lock retention (and an optional chunker seed); written only when set.
    public static let versionWithObjectLock: UInt8 = 3

    /// The S3 Object Lock every object of the repository is written with (`cairn init --object-lock`):
    /// `mode` for `days` from the upload. Writers that cannot lock objects refuse to write.
    public struct ObjectLock: Hashable, Sendable {
        public enum Mode: UInt8, Sendable { case governance = 1, compliance = 2 }
        public var mode: Mode
        public var days: UInt32
        /// 100 years: S3 has no limit, but a typo should not lock data for millennia.
        public static let maximumDays: UInt32 = 36_500
        public init(mode: Mode, days: UInt32) { self.mode = mode; self.days = days }
    }
    /// 32 random bytes; names the cache directory.
    public var repositoryID: [UInt8]
    public var createdNanos: Int64
    /// Target size of a pack in bytes.
    public var packSize: UInt32
    /// Default zstd level (1...19); 0 stores blobs uncompressed.
    public var compressionLevel: Int32

    /// The level of a new repository. On chunks of 4-64 KiB zstd's level 2
    /// ("fast" strategy) stores the platform's dumps, RDB files, node tables
    /// and WAL about as small as level 3 ("dfast") in less backup time
    /// (the figures: Docs/performance.md, "What changed in this work").
    public static let defaultCompressionLevel: Int32 = 2
    public var profiles: [ChunkerProfile]
    /// A chunker seed shared with another repository (`cairn init --copy-chunker-from`):
    /// overrides the seed derived from the master key, so both cut the same chunks. nil in most repositories.
    public var chunkerSeed: UInt64?
    /// nil in repositories without Object Lock (and in every config of version 1 or 2).
    public var objectLock: ObjectLock?

    public init(repositoryID: [UInt8], createdNanos: Int64, packSize: UInt32 = 16 << 20, compressionLevel: Int32 = Self.defaultCompressionLevel,
                profiles: [ChunkerProfile] = RepositoryConfig.defaultProfiles, chunkerSeed: UInt64? = nil, objectLock: ObjectLock? = nil) {
        self.repositoryID = repositoryID; self.createdNanos = createdNanos; self.packSize = packSize
        self.compressionLevel = compressionLevel; self.profiles = profiles; self.chunkerSeed = chunkerSeed
        self.objectLock = objectLock
    }

    /// The defaults, chosen by measurement (Docs/chunking.md): scattered
    /// changes in dumps and RDB files want small chunks (dumps reuse half a
    /// day at 16 KiB; RDB files store a third less per day at 8 KiB than at
    /// 16 KiB); WAL segments share nothing at any size, so they get large
    /// chunks and a small index; generic files are new or unchanged as a whole.
    public static let defaultProfiles: [ChunkerProfile] = [
        ChunkerProfile(name: ChunkerProfileName.dump, minimumSize: 4 << 10, averageSize: 16 << 10, maximumSize: 64 << 10),
        ChunkerProfile(name: ChunkerProfileName.rdb, minimumSize: 2 << 10, averageSize: 8 << 10, maximumSize: 32 << 10),
        ChunkerProfile(name: ChunkerProfileName.wal, minimumSize: 64 << 10, averageSize: 256 << 10, maximumSize: 1 << 20),
        ChunkerProfile(name: ChunkerProfileName.file, minimumSize: 16 << 10, averageSize: 64 << 10, maximumSize: 256 << 10),
    ]

    public var repositoryIDHex: String { Hex.encode(repositoryID) }

    public func profile(named name: String) -> ChunkerProfile? { profiles.first { $0.name == name } }

    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        let v = objectLock != nil ? Self.versionWithObjectLock : chunkerSeed == nil ? Self.version : Self.versionWithChunkerSeed
        w.u8(v); w.raw(repositoryID); w.i64(createdNanos); w.u32(packSize)
        w.u32(UInt32(bitPattern: compressionLevel))
        w.varint(profiles.count)
        for p in profiles {
            w.string(p.name); w.varint(p.minimumSize); w.varint(p.averageSize); w.varint(p.maximumSize); w.u8(p.normalization)
        }
        if let objectLock {
            w.u8(chunkerSeed == nil ? 0 : 1)
            if let chunkerSeed { w.u64(chunkerSeed) }
            w.u8(objectLock.mode.rawValue); w.u32(objectLock.days)
        } else if let chunkerSeed {
            w.u64(chunkerSeed)
        }
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> RepositoryConfig {
        let what = "repository config"
        var r = ByteReader(bytes, what: what)
        let v = try r.u8()
        guard v == version || v == versionWithChunkerSeed || v == versionWithObjectLock else {
            throw FormatError.unsupportedVersion(what: what, version: Int(v), supported: Int(versionWithObjectLock))
        }
        let id = try r.raw(32)
        let created = try r.i64()
        let packSize = try r.u32()
        let level = Int32(bitPattern: try r.u32())
        var profiles: [ChunkerProfile] = []
        for _ in 0..<(try r.count(max: 64)) {
            let p = ChunkerProfile(name: try r.string(), minimumSize: try r.count(), averageSize: try r.count(),
                                   maximumSize: try r.count(), normalization: try r.u8())
            try p.parameters(seed: 0).validate()
            profiles.append(p)
        }
        var seed: UInt64? = v == versionWithChunkerSeed ? try r.u64() : nil
        var lock: ObjectLock?
        if v == versionWithObjectLock {
            switch try r.u8() {
            case 0: break
            case 1: seed = try r.u64()
            case let flag: throw FormatError.invalid(what: what, reason: "chunker seed flag \(flag) is neither 0 nor 1")
            }
            let modeByte = try r.u8()
            guard let mode = ObjectLock.Mode(rawValue: modeByte) else {
                throw FormatError.invalid(what: what, reason: "unknown Object Lock mode \(modeByte)")
            }
            let days = try r.u32()
            guard days >= 1, days <= ObjectLock.maximumDays else {
                throw FormatError.invalid(what: what, reason: "Object Lock of \(days) days (1...\(ObjectLock.maximumDays))")
            }
            lock = ObjectLock(mode: mode, days: days)
        }
        try r.expectEnd()
        guard packSize >= 1 << 16 else { throw FormatError.invalid(what: what, reason: "pack size \(packSize) too small") }
        return RepositoryConfig(repositoryID: id, createdNanos: created, packSize: packSize, compressionLevel: level, profiles: profiles,
                                chunkerSeed: seed, objectLock: lock)
    }
}
