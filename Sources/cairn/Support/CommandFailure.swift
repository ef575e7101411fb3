import CairnOps

/// How a command that ran ends other than with success: its exit status (one of `ExitStatus`'s
/// documented codes) and, unless the command's own output already said it, the one
/// `cairn: error:` line that says why. Commands throw this; `ExitMapping` turns it (and every
/// other error) into what is printed and the code the process exits with.
struct CommandFailure: Error {
    /// The exit status (`ExitStatus`).
    let status: Int32
    /// The one error line (without its `cairn: error: ` prefix); nil when nothing more is printed
    /// (the command's report says it, or the outcome is a result rather than an error).
    let message: String?

    init(_ status: Int32, _ message: String? = nil) {
        self.status = status
        self.message = message
    }

    /// The command failed: exit 1 with `message`.
    static func failed(_ message: String) -> CommandFailure { CommandFailure(ExitStatus.failure, message) }

    /// `scrub`/`repair` found damage: exit 4 with `message`.
    static func damage(_ message: String) -> CommandFailure { CommandFailure(ExitStatus.damage, message) }
}
