import CairnPlan
import Foundation

/// `cairn drill` for one source: the newest snapshot of its name, a scratch directory of its own,
/// and its kind's adapter (`SourceRegistry`) to restore and prove it; every failure becomes a failed
/// drill naming the phase. The caller records and prints the result.
public struct PlanDrill {
    let environment: any DrillEnvironment

    public init(environment: any DrillEnvironment) { self.environment = environment }

    /// Why `s` is not drilled on its own (nil: it is).
    public func skipReason(_ s: PlanSource) -> String? {
        SourceRegistry.adapter(for: s.kind).drillSkipReason(s, in: environment.plan)
    }

    /// Drills `s` from repository `repo`.
    public func drill(_ s: PlanSource, from repo: PlanRepository) async -> OpsRecord.Drill {
        let timer = PhaseTimer()
        var snapshotID = ""
        do {
            let snap: OpsSnapshot
            do {
                let r = try await environment.open(repo)
                guard let newest = try r.snapshots(name: s.snapshotName).max(by: { $0.snapshot.timeNanos < $1.snapshot.timeNanos }) else {
                    throw DrillFailure("no snapshot named \(s.snapshotName) in \(repo.name) to drill")
                }
                snap = OpsSnapshot(newest)
            } catch let e as DrillFailure { throw e } catch { throw DrillFailure("open \(repo.name): \(error)") }
            snapshotID = snap.id
            let scratch = try ScratchDirectory(under: environment.plan.drill.scratchDir)
            defer { withExtendedLifetime(scratch) {} }   // removed when the drill is over, not after its last use
            let message = try await SourceRegistry.adapter(for: s.kind).drill(
                DrillRequest(source: s, repository: repo, snapshot: snap, scratch: scratch.path, timer: timer, environment: environment))
            return OpsRecord.Drill(source: s.name, kind: s.kind.rawValue, ok: true, phases: timer.phases, snapshot: snapshotID, message: message)
        } catch {
            return OpsRecord.Drill(source: s.name, kind: s.kind.rawValue, ok: false, phases: timer.phases, snapshot: snapshotID, message: "\(error)")
        }
    }
}
