import CairnEngine
import CairnRepository
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Finds a passphrase without ever taking it from the command line: a file,
/// the environment, or a prompt on the terminal.
enum Passphrase {
    /// - Parameters:
    ///   - file: an explicit file (`--password-file`), else `<PREFIX>_PASSWORD_FILE`, else `<PREFIX>_PASSWORD`.
    static func read(file: String?, envPrefix: String, prompt: String, confirm: Bool = false) throws -> [UInt8] {
        let env = ProcessInfo.processInfo.environment
        if let path = file ?? env["\(envPrefix)_PASSWORD_FILE"], !path.isEmpty {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CairnError.invalidArgument("cannot read passphrase file \(path)")
            }
            var bytes = [UInt8](data)
            while let last = bytes.last, last == 10 || last == 13 { bytes.removeLast() }
            guard !bytes.isEmpty else { throw CairnError.invalidArgument("passphrase file \(path) is empty") }
            return bytes
        }
        if let p = env["\(envPrefix)_PASSWORD"], !p.isEmpty { return Array(p.utf8) }
        guard isatty(0) == 1 else {
            if envPrefix == "CAIRN" { throw CairnError.noPassphrase }
            throw CairnError.invalidArgument("no new passphrase: set \(envPrefix)_PASSWORD_FILE or \(envPrefix)_PASSWORD, or run on a terminal")
        }
        let first = try ask(prompt)
        if confirm {
            guard try ask("Again: ") == first else { throw CairnError.invalidArgument("the passphrases differ") }
        }
        return first
    }

    /// True when `read` finds the passphrase without a prompt (a file or the environment).
    static func isGivenWithoutPrompt(file: String?, envPrefix: String) -> Bool {
        let env = ProcessInfo.processInfo.environment
        return !(file ?? env["\(envPrefix)_PASSWORD_FILE"] ?? "").isEmpty || !(env["\(envPrefix)_PASSWORD"] ?? "").isEmpty
    }

    /// The passphrase of a destination repository (`copy`, `recover`): `--to-password-file`,
    /// `CAIRN_TO_PASSWORD_FILE` or `CAIRN_TO_PASSWORD` when one is given, else the source's own.
    static func destination(file: String?, to: String, source: () throws -> [UInt8]) throws -> [UInt8] {
        let env = ProcessInfo.processInfo.environment
        guard file != nil || env["CAIRN_TO_PASSWORD_FILE"] != nil || env["CAIRN_TO_PASSWORD"] != nil else { return try source() }
        return try read(file: file, envPrefix: "CAIRN_TO", prompt: "Passphrase of \(to): ")
    }

    /// The passphrase file `read` takes (`file`, else `<PREFIX>_PASSWORD_FILE`), if any.
    static func filePath(file: String?, envPrefix: String) -> String? {
        guard let path = file ?? ProcessInfo.processInfo.environment["\(envPrefix)_PASSWORD_FILE"], !path.isEmpty else { return nil }
        return path
    }

    /// A passphrase file other users can read (or anyone but its owner can change) gives the
    /// repository away: say so, once it has opened the repository (a file that opens nothing
    /// gives nothing away, and a failed command keeps its one-line error). Group read is how
    /// a shared repository's users share it (Docs/postgres.md: root:postgres 0640), so only
    /// write access is flagged for the group.
    static func warnIfExposed(_ path: String?) {
        guard let path else { return }
        _ = pendingWarnings.withLock { $0.insert(path) }
    }

    /// Passphrase files that opened the repository during this command, warned about (if others
    /// can read them) when the command has succeeded.
    private static let pendingWarnings = Mutex<Set<String>>([])

    static func flushExposureWarnings() {
        for path in pendingWarnings.withLock({ $0 }).sorted() { warnNow(path) }
    }

    private static func warnNow(_ path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return }
        let mode = String(st.st_mode & 0o7777, radix: 8)
        if st.st_mode & (S_IROTH | S_IWOTH) != 0 {
            Terminal.warn("passphrase file \(path) is \(st.st_mode & S_IROTH != 0 ? "readable" : "writable") by every user (mode 0\(mode)): anyone on this machine can open the repository with it; run 'chmod o-rwx \(path)'")
        } else if st.st_mode & S_IWGRP != 0 {
            Terminal.warn("passphrase file \(path) is writable by its group (mode 0\(mode)): run 'chmod g-w \(path)'")
        }
    }

    private static func ask(_ prompt: String) throws -> [UInt8] {
        guard let p = getpass(prompt) else { throw CairnError.noPassphrase }
        let s = Array(String(cString: p).utf8)
        guard !s.isEmpty else { throw CairnError.invalidArgument("empty passphrase") }
        return s
    }

    /// The passphrase for a new key: `--new-password-file`, CAIRN_NEW_PASSWORD_FILE,
    /// CAIRN_NEW_PASSWORD, or a prompt asked twice.
    static func readNew(file: String?) throws -> [UInt8] {
        try read(file: file, envPrefix: "CAIRN_NEW", prompt: "New passphrase: ", confirm: true)
    }
}
