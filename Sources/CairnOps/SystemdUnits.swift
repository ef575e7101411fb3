import Foundation

import CairnPlan

/// systemd units that run a plan: `cairn-run.service` (one `cairn run`, its
/// exit code is the unit's result) and `cairn-run.timer` with one
/// `OnCalendar=` per distinct schedule in the plan (`cairn run` itself decides
/// which sources are due, so one timer serves them all).
public enum SystemdUnits {
    public static let service = "cairn-run.service"
    public static let timer = "cairn-run.timer"

    /// File name and contents of each unit.
    public static func render(plan: Plan, planPath: String, executable: String, user: Bool) -> [(name: String, text: String)] {
        let calendars = uniqueCalendars(plan)
        let timeoutStart = Self.timeoutStart
        let service = """
        # Written by 'cairn schedule install' for \(planPath); 'cairn schedule remove' deletes it.
        [Unit]
        Description=Cairn backup plan run (\(planPath))
        Documentation=file://Docs/operations.md
        Wants=network-online.target
        After=network-online.target

        [Service]
        Type=oneshot
        ExecStart=\(quote(executable)) run --plan \(quote(planPath))
        Environment=CAIRN_PLAN=\(quote(planPath))
        Nice=10
        IOSchedulingClass=best-effort
        IOSchedulingPriority=7
        # Exit 1: something failed; 3: finished with warnings (both mark the unit failed, so OnFailure= alerting works).
        # Finite: a run that hangs (an archiver that never catches up, a lock never released) is stopped
        # with SIGTERM, which cairn handles (locks and temporary files removed), and the unit fails.
        TimeoutStartSec=\(timeoutStart)
        TimeoutStopSec=2min

        """
        let timer = """
        # Written by 'cairn schedule install' for \(planPath).
        [Unit]
        Description=Cairn backup plan schedule (\(plan.sources.compactMap { $0.schedule.map { s in "\(s)" } }.uniqued().joined(separator: "; ")))

        [Timer]
        \(calendars.map { "OnCalendar=\($0)" }.joined(separator: "\n"))
        Persistent=true
        AccuracySec=1min
        Unit=\(Self.service)

        [Install]
        WantedBy=timers.target

        """
        _ = user
        return [(Self.service, service), (Self.timer, timer)]
    }

    /// The longest a run may take before systemd stops it: long enough for a
    /// night's base backup, prune and copy, short enough that the next
    /// scheduled run is not blocked by a hung one.
    public static let timeoutStart = "6h"

    /// Distinct OnCalendar expressions; a plan with no scheduled source runs daily at 02:00 (retention and scrub).
    static func uniqueCalendars(_ plan: Plan) -> [String] {
        let c = plan.sources.compactMap { $0.schedule?.onCalendar }.uniqued()
        return c.isEmpty ? ["*-*-* 02:00:00"] : c
    }

    /// systemd quoting for a path in ExecStart= (spaces and specials).
    static func quote(_ s: String) -> String {
        let safe = s.allSatisfy { $0.isLetter || $0.isNumber || "/._-+:@".contains($0) }
        if safe { return s }
        return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "%", with: "%%") + "\""
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
