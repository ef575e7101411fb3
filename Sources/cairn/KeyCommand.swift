import ArgumentParser
import CairnEngine
import CairnFormat

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "key", abstract: "Manage the passphrases that open the repository.",
                                                    subcommands: [Add.self, List.self, Remove.self, Passwd.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a passphrase (from --new-password-file, CAIRN_NEW_PASSWORD_FILE, CAIRN_NEW_PASSWORD or a prompt).")
        @OptionGroup var options: RepositoryOptions
        @Option(help: "File holding the new passphrase.") var newPasswordFile: String?

        func run() async throws {
            let repo = try await options.open()
            let id = try await KeyManager(repo: repo).add(passphrase: try Passphrase.readNew(file: newPasswordFile))
            if options.json { Terminal.json(["added": id]) } else { Terminal.out("added key \(id.prefix(8))") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys.")
        @OptionGroup var options: RepositoryOptions

        func run() async throws {
            let repo = try await options.open()
            let keys = try await KeyManager(repo: repo).list()
            if options.json {
                Terminal.json(keys.map { KeyJSON(id: $0.id, created: Terminal.rfc3339($0.createdNanos), host: $0.host, user: $0.user, current: $0.isCurrent, problem: $0.problem) })
                return
            }
            for k in keys {
                if let problem = k.problem {
                    Terminal.out("! \(k.id.prefix(8))  damaged: \(problem)")
                } else {
                    Terminal.out("\(k.isCurrent ? "*" : " ") \(k.id.prefix(8))  \(Terminal.rfc3339(k.createdNanos))  \(EscapedText.escape(k.user))@\(EscapedText.escape(k.host))")
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a key file (never the last one).",
            discussion: """
                Deletes one key file, so its passphrase no longer opens the repository from the store. It revokes \
                nothing from someone who kept a copy of that key file and knows its passphrase: every key file wraps \
                the same master key. To shut such a holder out of data written from now on, use 'cairn key rotate' \
                (see Docs/security.md). The key this command opens the repository with is removed only with --force.

                Example: cairn key remove 3f2a9c01
                """)
        @OptionGroup var options: RepositoryOptions
        @Argument(help: "Key id or unique prefix.") var id: String
        @Flag(help: "Remove the key even when it is the one this command opened the repository with.") var force = false

        func run() async throws {
            let repo = try await options.open()
            let removed = try await KeyManager(repo: repo).remove(id, force: force)
            if options.json { Terminal.json(["removed": removed]) } else { Terminal.out("removed key \(removed.prefix(8))") }
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change the passphrase of the key that opens the repository.")
        @OptionGroup var options: RepositoryOptions
        @Option(help: "File holding the new passphrase.") var newPasswordFile: String?

        func run() async throws {
            let repo = try await options.open()
            let id = try await KeyManager(repo: repo).changePassphrase(to: try Passphrase.readNew(file: newPasswordFile))
            if options.json { Terminal.json(["key": id]) } else { Terminal.out("passphrase changed; new key \(id.prefix(8))") }
        }
    }
}

struct KeyJSON: Encodable {
    let id: String, created: String, host: String, user: String, current: Bool
    /// Why a damaged key file cannot be used; absent for sound ones.
    let problem: String?
}
