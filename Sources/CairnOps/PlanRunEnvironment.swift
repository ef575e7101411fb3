import CairnPlan

/// What `cairn run` needs from outside: child `cairn` processes against plan repositories, what the
/// repositories hold, a place to record scrub results, and a person to tell what it is doing. Injected, so
/// that `PlanRun` (what is due, what runs after what, how an exit status becomes a step) is tested without
/// processes or repositories; the CLI implements it with real ones.
public protocol PlanRunEnvironment {
    /// Runs `cairn ARGUMENTS` against repository `r` (`maintenance`: with its maintenance credentials).
    func cairn(_ arguments: [String], _ r: PlanRepository, extraEnvironment: [String: String], maintenance: Bool) throws -> ChildResult
    /// What every plan repository (or those in `only`) holds now.
    func facts(only names: Set<String>?) async -> [RepositoryFacts]
    /// Stores an ops record (a scrub result) in `r`.
    func record(name: String, extra: [String: String], in r: PlanRepository) async throws
    /// One line for the person watching (never called for `--json`).
    func info(_ message: String)
}
