import ArgumentParser
import CairnEngine

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
                Terminal.json(keys.map { KeyJSON(id: $0.id, created: Terminal.rfc3339($0.createdNanos), host: $0.host, user: $0.user, current: $0.isCurrent) })
                return
            }
            for k in keys {
                Terminal.out("\(k.isCurrent ? "*" : " ") \(k.id.prefix(8))  \(Terminal.rfc3339(k.createdNanos))  \(k.user)@\(k.host)")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a key (never the last one).")
        @OptionGroup var options: RepositoryOptions
        @Argument(help: "Key id or unique prefix.") var id: String

        func run() async throws {
            let repo = try await options.open()
            let removed = try await KeyManager(repo: repo).remove(id)
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

struct KeyJSON: Encodable { let id: String, created: String, host: String, user: String, current: Bool }
