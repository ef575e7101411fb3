/// One line of `cairn run`'s summary.
public struct RunStep: Sendable {
    public enum Outcome: String, Sendable { case ok, warning, failed, skipped, planned }
    /// backup, copy, forget, scrub.
    public var step: String
    /// The source or repository.
    public var target: String
    public var outcome: Outcome
    public var seconds: Double
    public var detail: String

    public init(step: String, target: String, outcome: Outcome, seconds: Double = 0, detail: String = "") {
        self.step = step; self.target = target; self.outcome = outcome; self.seconds = seconds; self.detail = detail
    }

    /// The run's exit code: failure (1) when anything failed, partial (3) when something warned, else 0.
    public static func exitCode(_ steps: [RunStep]) -> Int32 {
        if steps.contains(where: { $0.outcome == .failed }) { return ExitStatus.failure }
        if steps.contains(where: { $0.outcome == .warning }) { return ExitStatus.partial }
        return ExitStatus.success
    }
}
