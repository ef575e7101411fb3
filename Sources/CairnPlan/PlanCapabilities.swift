/// What the `cairn` binary reading the plan can do. Features still being
/// built make `plan check` fail with a clear message instead of a run
/// failing later.
public struct PlanCapabilities: Sendable {
    /// Source kinds this build cannot back up, with the reason.
    public var unavailableKinds: [SourceKind: String]

    public init(unavailableKinds: [SourceKind: String] = [:]) {
        self.unavailableKinds = unavailableKinds
    }
}
