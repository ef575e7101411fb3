import CairnEngine
import CairnPlan

/// What `cairn run` does to back up a source.
public enum SourceBackup: Sendable, Equatable {
    /// Run `cairn` with these arguments (it prints one JSON document with the snapshot id).
    case command([String])
    /// Nothing to run, and why (said when the source was named).
    case notRun(String)
}

/// One kind of plan source (`SourceKind`): how it is written in a plan (its `SourceDeclaration`:
/// kind name, keys, rules), how `cairn run` backs it up and how `cairn drill` restores its newest
/// snapshot and proves it usable. The flows themselves live in the source libraries on the engine
/// (CairnPostgres, CairnRedisSource, the engine's tree and stream archiver); an adapter wires one
/// of them to the plan (and declares the source's own retention rule, if it has one). Adding a
/// source: its library, an adapter (with its `SourceKind` constant and `PlanSource` accessors in
/// the adapter's file), and one line in `SourceRegistry.adapters` (Docs/architecture.md).
public protocol SourceAdapter: Sendable {
    /// The kind's name and plan keys; the plan decoder knows no kind but these.
    var declaration: SourceDeclaration { get }
    /// The `cairn` command that backs up `s`, holding the repository lock up to `waitLock`.
    func backup(_ s: PlanSource, waitLock: String) -> SourceBackup
    /// Why `cairn drill` does not drill `s` on its own (nil: it does).
    func drillSkipReason(_ s: PlanSource, in plan: Plan) -> String?
    /// Restores `d.snapshot` into `d.scratch` and proves it usable, timing each phase with `d.timer`;
    /// returns what was proved. Throws `DrillFailure` (or any error) when it is not.
    func drill(_ d: DrillRequest) async throws -> String
    /// The rule by which this source keeps its snapshots instead of `cairn forget`'s calendar
    /// policy (nil: the policy applies).
    var separateRetention: SeparateRetention? { get }
    /// What `cairn status` reports as breached for `s` beyond its RPO and RTO (nil: nothing), keeping
    /// what it saw between runs under `stateDirectory` (the repository's cache).
    func statusProblem(_ s: PlanSource, in plan: Plan, stateDirectory: String) -> String?
    /// The chunker profile this source's snapshots were cut with when they do not record it
    /// (written before they did), for a re-chunking `cairn copy` (nil: the kind's default).
    var unrecordedProfile: UnrecordedProfile? { get }
}

extension SourceAdapter {
    public var kind: SourceKind { declaration.kind }
    public func drillSkipReason(_ s: PlanSource, in plan: Plan) -> String? { nil }
    public func statusProblem(_ s: PlanSource, in plan: Plan, stateDirectory: String) -> String? { nil }
    public var separateRetention: SeparateRetention? { nil }
    public var unrecordedProfile: UnrecordedProfile? { nil }
}

/// Every source kind Cairn backs up: the one place a new source is registered.
public enum SourceRegistry {
    public static let adapters: [any SourceAdapter] = [
        TreeSourceAdapter(),
        CommandSourceAdapter(),
        RedisSourceAdapter(),
        PgDumpSourceAdapter(),
        PgBaseBackupSourceAdapter(),
        PgWALSourceAdapter(),
    ]

    /// The source kinds a plan may use, for `PlanDecoder`.
    public static var planCapabilities: PlanCapabilities { PlanCapabilities(sources: adapters.map(\.declaration)) }

    /// The sources' own retention rules: `cairn forget`'s policy leaves the snapshots they cover alone.
    public static var separateRetentions: [SeparateRetention] { adapters.compactMap(\.separateRetention) }

    /// The sources' chunker profiles for snapshots that do not record theirs: `cairn copy` re-chunks with them.
    public static var unrecordedProfiles: [UnrecordedProfile] { adapters.compactMap(\.unrecordedProfile) }

    /// The adapter of `kind` (every kind has one: `SourceRegistryTests` checks).
    public static func adapter(for kind: SourceKind) -> any SourceAdapter {
        guard let a = adapters.first(where: { $0.kind == kind }) else {
            preconditionFailure("no source adapter registered for \(kind.rawValue): add one to SourceRegistry.adapters")
        }
        return a
    }
}

extension PlanDecoder {
    /// Parses and validates a plan against the source kinds of `SourceRegistry`.
    public static func decode(_ text: String, file: String) throws -> Plan {
        try decode(text, file: file, capabilities: SourceRegistry.planCapabilities)
    }
}
