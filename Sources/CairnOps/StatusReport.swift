/// Every objective of a plan, measured: per source the newest snapshot's age
/// against its RPO and the last drill's RTO against its objective, per
/// repository the last scrub and the size.
public struct StatusReport: Sendable {
    public struct Source: Sendable {
        public var name: String
        public var kind: String
        public var repository: String
        public var snapshotName: String
        /// Seconds since the epoch of the newest snapshot (pg-wal: the newest archived segment).
        public var newest: Double?
        public var ageSeconds: Double?
        public var rpoObjective: Int64?
        public var rpoBreached: Bool
        public var lastDrill: OpsRecord.Drill?
        public var rtoObjective: Int64?
        public var rtoBreached: Bool
        public var snapshotCount: Int
        /// Why an objective is breached, one line each.
        public var problems: [String]
        /// Snapshots of this name that miss a whole source (not counted in `snapshotCount` or `newest`).
        public var incompleteSnapshots = 0
        /// Entries the newest counted snapshot left out (unreadable or replaced while backed up).
        public var newestSkipped = 0
    }

    public struct Repository: Sendable {
        public var name: String
        public var reachable: Bool
        public var error: String?
        public var storedBytes: UInt64
        public var uniqueBytes: UInt64
        public var snapshotCount: Int
        /// Average plaintext bytes new per day over the last 7 days.
        public var dailyGrowthBytes: Double
        public var lastScrub: OpsRecord.Scrub?
        public var problems: [String]
        /// Measured when the plan sets `immutable-days` or the repository has Object Lock.
        public var protection: ProtectionFacts? = nil
    }

    public var time: Double
    public var sources: [Source]
    public var repositories: [Repository]

    /// Whether any objective is breached (status exits 5).
    public var breached: Bool { sources.contains { !$0.problems.isEmpty } || repositories.contains { !$0.problems.isEmpty } }
}
