import CairnEngine
import CairnRepository
import CairnPlan

/// What a drill needs from outside: the plan, child `cairn` processes against plan repositories,
/// and the repositories. Injected (the CLI implements it with real ones), as `PlanRunEnvironment` is for `cairn run`.
public protocol DrillEnvironment {
    var plan: Plan { get }
    /// Runs `cairn ARGUMENTS` against repository `r`, its standard output into `stdoutPath` when given.
    func cairn(_ arguments: [String], _ r: PlanRepository, stdoutPath: String?, extraEnvironment: [String: String], maintenance: Bool) throws -> ChildResult
    /// Opens repository `r` for reading.
    func open(_ r: PlanRepository) async throws -> Repository
}

extension DrillEnvironment {
    /// Runs `cairn ARGUMENTS` against `r`; a non-zero exit is a `DrillFailure` naming `what`.
    func cairnChecked(_ arguments: [String], _ r: PlanRepository, stdoutPath: String? = nil, extraEnvironment: [String: String] = [:],
                      _ what: String) throws {
        let result = try cairn(arguments, r, stdoutPath: stdoutPath, extraEnvironment: extraEnvironment, maintenance: false)
        try DrillFailure.check(result, what)
    }
}

/// One drill: the source, its repository, the snapshot to restore, a scratch directory of its own.
public struct DrillRequest {
    public var source: PlanSource
    public var repository: PlanRepository
    public var snapshot: OpsSnapshot
    /// An empty directory removed after the drill.
    public var scratch: String
    public var timer: PhaseTimer
    public var environment: any DrillEnvironment

    public init(source: PlanSource, repository: PlanRepository, snapshot: OpsSnapshot, scratch: String, timer: PhaseTimer,
                environment: any DrillEnvironment) {
        self.source = source; self.repository = repository; self.snapshot = snapshot; self.scratch = scratch
        self.timer = timer; self.environment = environment
    }

    public var plan: Plan { environment.plan }
}

/// Why a drill failed, as the operator reads it in `cairn drill` and `status`.
public struct DrillFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }

    static func check(_ r: ChildResult, _ what: String) throws {
        guard r.status == 0 else { throw DrillFailure("\(what) exited \(r.status): \(r.lastErrorLine)") }
    }
}
