import ArgumentParser
import CairnEngine
import CairnOps
import CairnRepository
import Foundation

/// The one mapping from how a command ended to what it prints on standard error and the code it
/// exits with (`ExitStatus`, Docs/operations.md): a command's `CommandFailure` keeps its code;
/// a bad option, argument or value (found while parsing, or `CairnError.usage` at run time) is a
/// usage error, exit 2, with a pointer to --help; any other error is one line and exit 1.
enum ExitMapping {
    /// What a failed command prints and the status it exits with.
    struct Outcome: Equatable {
        let status: Int32
        /// Lines for standard error, each complete.
        let lines: [String]
    }

    static let usageHint = "Run 'cairn --help' (or 'cairn COMMAND --help') for usage."

    /// The outcome of `error` thrown by parsing or running a command (not --help or --version,
    /// which ArgumentParser prints and exits 0 for).
    static func outcome(of error: any Error, for command: any ParsableCommand.Type) -> Outcome {
        switch error {
        case let f as CommandFailure:
            return Outcome(status: f.status, lines: f.message.map { [errorLine($0)] } ?? [])
        case let e as ExitCode:
            // ArgumentParser's own early exits; Cairn's commands throw CommandFailure instead.
            return Outcome(status: e.rawValue, lines: [])
        case CairnError.usage(let message):
            // A bad option value found only at run time: still a usage error.
            return Outcome(status: ExitStatus.usage, lines: [errorLine(message), usageHint])
        default:
            break
        }
        if error is CairnError || (command.exitCode(for: error) != .validationFailure && isRuntime(error)) {
            return Outcome(status: ExitStatus.failure, lines: [errorLine(describe(error))])
        }
        // A usage error: one line, then a pointer to --help.
        let message = command.fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage"
        return Outcome(status: ExitStatus.usage, lines: [errorLine(message.replacingOccurrences(of: "Error: ", with: "")), usageHint])
    }

    /// Prints the outcome's lines on standard error.
    static func report(_ outcome: Outcome) {
        for line in outcome.lines { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    private static func errorLine(_ message: String) -> String { Terminal.errorLine(message) }

    /// Errors raised while running (as opposed to parsing) a command.
    private static func isRuntime(_ error: any Error) -> Bool {
        !(String(reflecting: type(of: error)).hasPrefix("ArgumentParser."))
    }
}
