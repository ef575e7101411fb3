/// A backup plan (`cairn.toml`): repositories with their retention and
/// replication, sources with their schedules and objectives, drill settings.
public struct Plan: Sendable {
    /// The file it was read from (for messages).
    public var file: String
    public var repositories: [PlanRepository]
    public var sources: [PlanSource]
    public var drill: DrillSettings

    public init(file: String, repositories: [PlanRepository], sources: [PlanSource], drill: DrillSettings) {
        self.file = file; self.repositories = repositories; self.sources = sources; self.drill = drill
    }

    public func repository(named name: String) -> PlanRepository? { repositories.first { $0.name == name } }
    public func source(named name: String) -> PlanSource? { sources.first { $0.name == name } }
    /// Sources that back up into repository `name`.
    public func sources(in name: String) -> [PlanSource] { sources.filter { $0.repository == name } }
}

/// `[repository.NAME]`.
public struct PlanRepository: Sendable {
    public var name: String
    /// A path, `local:/path` or `s3:https://HOST/BUCKET/PREFIX`.
    public var url: String
    /// The passphrase file (never the passphrase itself).
    public var passwordFile: String
    /// Retention applied by `cairn run` (empty: nothing is forgotten).
    public var keep: KeepPolicy
    /// Prune after forget removed snapshots (default true).
    public var prune: Bool
    /// Replicate this repository from another one after each run.
    public var copyFrom: String?
    public var scrub: ScrubSettings
    /// Cache directory (default: $CAIRN_CACHE_DIR or ~/.cache/cairn).
    public var cacheDir: String?
    public var line: Int
    /// `immutable-days = N`: `status` exits 5 unless the repository has S3 Object Lock, a versioned
    /// bucket, and the newest snapshot's objects stay locked at least N more days (Docs/immutability.md).
    public var immutableDays: Int? = nil
    /// `maintenance-credentials = "/path"`: an AWS shared-credentials file that `cairn run` hands to
    /// forget, prune and lock extend (AWS_SHARED_CREDENTIALS_FILE), while backups keep the host's
    /// append-only ones (Docs/immutability.md). Kept off the hosts that back up.
    public var maintenanceCredentials: String? = nil
}

/// `scrub = { read-data = true, max-duration = "10m", max-age = "7d" }`: the
/// slice of verification `cairn run` does after backups.
public struct ScrubSettings: Sendable, Equatable {
    public var enabled = true
    public var readData = true
    /// Seconds; packs past this time are left for the next run.
    public var maxDuration: Int64? = 600
    /// Seconds; packs verified within this period are skipped (so runs rotate through the repository).
    public var maxAge: Int64? = 7 * 86_400
    public init() {}

    /// `cairn scrub` arguments.
    public var arguments: [String] {
        guard readData else { return [] }
        var a = ["--read-data"]
        if let d = maxDuration { a += ["--max-duration", "\(d)s"] }
        if let d = maxAge { a += ["--max-age", "\(d)s"] }
        return a
    }
}

/// `[source.NAME]`.
public struct PlanSource: Sendable {
    public var name: String
    public var kind: SourceKind
    public var repository: String
    /// The snapshot name: `snapshot-name`, else its kind's naming key or default name
    /// (`SourceDeclaration.snapshotNameKey`), else the source's name.
    public var snapshotName: String
    public var schedule: Schedule?
    /// Recovery point objective, seconds.
    public var rpo: Int64?
    /// Recovery time objective, seconds.
    public var rto: Int64?
    public var tags: [String]
    /// The keys its kind declared (`SourceDeclaration`), read by the kind's adapter.
    public var settings: SourceSettings
    /// `[[source.NAME.check]]` (kinds that take them): SQL checks a drill runs on the restored copy.
    public var checks: [DrillCheck]
    public var line: Int
}

/// `[drill]`: where and with what drills restore.
public struct DrillSettings: Sendable {
    /// Scratch directory (default: the system temporary directory).
    public var scratchDir: String?
    /// PostgreSQL server binaries (default: /usr/lib/postgresql/15/bin, else the newest installed).
    public var pgBin: String?
    /// redis-server (default: found on PATH).
    public var redisServer: String?
    /// The account temporary PostgreSQL clusters run as when drilling as root (default postgres).
    public var pgUser: String
    public init() { pgUser = "postgres" }
}
