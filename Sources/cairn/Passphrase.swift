import CairnEngine
import Foundation
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
