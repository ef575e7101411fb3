/// What the `cairn` binary reading the plan can do: the source kinds it knows (each declared by
/// its adapter; CairnOps' `SourceRegistry.planCapabilities`), and kinds still being built, which
/// make `plan check` fail with a clear message instead of a run failing later.
public struct PlanCapabilities: Sendable {
    /// The source kinds a plan may use.
    public var sources: [SourceDeclaration]
    /// Source kinds this build cannot back up, with the reason.
    public var unavailableKinds: [SourceKind: String]

    public init(sources: [SourceDeclaration], unavailableKinds: [SourceKind: String] = [:]) {
        self.sources = sources
        self.unavailableKinds = unavailableKinds
    }

    /// The declaration of the kind named `name`.
    public func declaration(of name: String) -> SourceDeclaration? { sources.first { $0.kind.rawValue == name } }
}
