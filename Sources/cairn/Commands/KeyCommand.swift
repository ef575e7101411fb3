import ArgumentParser
import CairnEngine
import CairnRepository
import CairnFormat

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "key", abstract: "Manage the passphrases that open the repository.",
                                                    subcommands: [Add.self, List.self, Remove.self, Passwd.self, Rotate.self])

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
                Terminal.json(keys.map { KeyJSON(id: $0.id, created: Terminal.rfc3339($0.createdNanos), host: $0.host, user: $0.user, current: $0.isCurrent,
                                                 version: $0.problem == nil ? Int($0.version) : nil, problem: $0.problem) })
                return
            }
            for k in keys {
                if let problem = k.problem {
                    Terminal.out("! \(k.id.prefix(8))  damaged: \(problem)")
                } else {
                    Terminal.out("\(k.isCurrent ? "*" : " ") \(k.id.prefix(8))  \(Terminal.rfc3339(k.createdNanos))  \(EscapedText.escape(k.user))@\(EscapedText.escape(k.host))\(k.version == KeyFile.keyringVersion ? "  (rotated keyring)" : "")")
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
        static let configuration = CommandConfiguration(
            abstract: "Change the passphrase of the key that opens the repository.",
            discussion: """
                Replaces the key file this command opens the repository with by one for the new passphrase \
                (--new-password-file, CAIRN_NEW_PASSWORD_FILE, CAIRN_NEW_PASSWORD or a prompt). The master key \
                does not change: a kept copy of the old key file still opens the repository with the old \
                passphrase. If the old passphrase or key file may have leaked, use 'cairn key rotate' instead \
                (see Docs/security.md).

                Example: CAIRN_NEW_PASSWORD_FILE=/etc/cairn/new.pass cairn key passwd
                """)
        @OptionGroup var options: RepositoryOptions
        @Option(help: "File holding the new passphrase.") var newPasswordFile: String?

        func run() async throws {
            let repo = try await options.open()
            let id = try await KeyManager(repo: repo).changePassphrase(to: try Passphrase.readNew(file: newPasswordFile))
            if options.json { Terminal.json(["key": id]) } else { Terminal.out("passphrase changed; new key \(id.prefix(8))") }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the master key for data written from now on (revokes every other key file).",
            discussion: """
                Makes a new master key that seals everything written from now on, writes one key file for the \
                new passphrase (--new-password-file, CAIRN_NEW_PASSWORD_FILE, CAIRN_NEW_PASSWORD or a prompt) and \
                deletes every other key file. The earlier master keys live on only inside the new key file, so \
                all data stays readable with the new passphrase, and nothing is re-encrypted. Someone who kept \
                a copy of an old key file and knows its passphrase can still read what was written before the \
                rotation, and nothing written after it. Add the other passphrases again with 'cairn key add'. \
                If the old passphrase itself leaked, choose a new one. Takes an exclusive lock. If a rotation \
                was interrupted, run it again with the same new passphrase: it finishes that rotation.

                Example: CAIRN_NEW_PASSWORD_FILE=/etc/cairn/new.pass cairn key rotate
                """)
        @OptionGroup var options: RepositoryOptions
        @OptionGroup var lockOptions: LockOptions
        @Option(help: "File holding the passphrase of the new key file.") var newPasswordFile: String?

        func run() async throws {
            let passphrase = try Passphrase.readNew(file: newPasswordFile)
            let (repo, lock) = try await options.openLocked(exclusive: true, operation: "key rotate", wait: lockOptions.seconds)
            let r = try await lock.holding { try await KeyManager(repo: repo).rotate(to: passphrase) }
            if options.json {
                Terminal.json(RotateJSON(key: r.key, generation: Int(r.generation), removed: r.removed, resumed: r.resumed))
            } else if r.resumed {
                Terminal.out("an interrupted rotation was finished: master key generation \(r.generation), key \(r.key.prefix(8)) for the new passphrase")
            } else {
                Terminal.out("master key rotated (generation \(r.generation)); new key \(r.key.prefix(8)) for the new passphrase")
                if !r.removed.isEmpty {
                    Terminal.out("removed \(r.removed.count) other key file(s): \(r.removed.map { String($0.prefix(8)) }.joined(separator: ", ")); add other passphrases again with 'cairn key add'")
                }
            }
        }
    }
}

struct RotateJSON: Encodable {
    let key: String, generation: Int, removed: [String]
    /// True when an interrupted rotation to this passphrase was finished instead of rotating again.
    let resumed: Bool
}

struct KeyJSON: Encodable {
    let id: String, created: String, host: String, user: String, current: Bool
    /// Key file version (2: the keyring of a rotated repository); absent for a damaged one.
    let version: Int?
    /// Why a damaged key file cannot be used; absent for sound ones.
    let problem: String?
}
