import CairnPlan

/// The `cairn` arguments that back up a source (nil: nothing to run, with the reason): its kind's
/// adapter in `SourceRegistry`.
public enum BackupInvocation {
    public static func arguments(for s: PlanSource, waitLock: String = "10m") -> Result<[String], OpsError> {
        switch SourceRegistry.adapter(for: s.kind).backup(s, waitLock: waitLock) {
        case .command(let arguments): return .success(arguments)
        case .notRun(let why): return .failure(.failed(why))
        }
    }
}
