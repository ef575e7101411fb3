import ArgumentParser

/// restic's convention: global options may come before the command
/// (`cairn -r REPO --json snapshots`) as well as after it. ArgumentParser
/// only takes a command's options after its name, so the options found
/// before the command are moved to just after the command's full path
/// (`cairn key list`), where the command's own parser reads them.
enum GlobalArguments {
    /// Options of `RepositoryOptions`, `PlanOptions` and the lock options that take a value.
    static let valued: Set<String> = [
        "--repo", "-r", "--password-file", "--key-cache", "--key-hint", "--connections", "--limit-upload", "--limit-download",
        "--s3-storage-class", "--plan", "--wait-lock",
    ]
    /// Flags of `RepositoryOptions` and `ReadLockOptions`.
    static let flags: Set<String> = ["--json", "--progress", "--s3-virtual-host", "--no-lock"]

    /// `arguments` without the program name, global options moved after the command path.
    /// Anything it does not recognise is left where it is for the parser to judge.
    static func hoist(_ arguments: [String], root: ParsableCommand.Type = CairnCommand.self) -> [String] {
        var moved: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            guard a.hasPrefix("-"), a != "--" else { break }
            let name = a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a
            if flags.contains(a) {
                moved.append(a); i += 1
            } else if valued.contains(name) && a.contains("=") {
                moved.append(a); i += 1
            } else if valued.contains(a) && i + 1 < arguments.count {
                moved += [a, arguments[i + 1]]; i += 2
            } else {
                // --help, --version, an unknown option or a missing value: the parser says what is wrong.
                return arguments
            }
        }
        guard !moved.isEmpty, i < arguments.count else { return arguments }
        // The command path: the verb, then any of its subcommands' names.
        var path: [String] = []
        var command: ParsableCommand.Type = root
        var j = i
        while j < arguments.count,
              let sub = command.configuration.subcommands.first(where: { name(of: $0) == arguments[j] || $0.configuration.aliases.contains(arguments[j]) }) {
            path.append(arguments[j]); command = sub; j += 1
        }
        guard !path.isEmpty else { return arguments }
        return path + moved + Array(arguments[j...])
    }

    private static func name(of command: ParsableCommand.Type) -> String {
        command.configuration.commandName ?? String(describing: command).lowercased()
    }
}
