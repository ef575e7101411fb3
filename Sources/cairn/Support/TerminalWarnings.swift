import CairnEngine
import CairnRepository

/// The engine's warnings on standard error, one `cairn: warning:` line each.
struct TerminalWarnings: WarningReporter {
    func warn(_ message: String) { Terminal.warn(message) }
}
