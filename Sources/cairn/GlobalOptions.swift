import ArgumentParser
import CairnEngine
import Foundation

/// Options every repository command takes.
struct RepositoryOptions: ParsableArguments {
    @Option(name: .long, help: "Repository: a path or local:/path (default: $CAIRN_REPO).")
    var repo: String?

    @Option(name: .long, help: "File holding the passphrase (default: $CAIRN_PASSWORD_FILE).")
    var passwordFile: String?

    @Flag(name: .long, help: "Print machine-readable JSON.")
    var json = false

    @Flag(name: .long, help: "Show a progress line even when standard error is not a terminal.")
    var progress = false

    func repositoryURL() throws -> String {
        guard let url = repo ?? ProcessInfo.processInfo.environment["CAIRN_REPO"], !url.isEmpty else {
            throw CairnError.invalidArgument("no repository given: use --repo PATH or set CAIRN_REPO")
        }
        return url
    }

    /// The cache base: $CAIRN_CACHE_DIR, else $XDG_CACHE_HOME/cairn, else ~/.cache/cairn.
    /// Each repository gets a subdirectory named by its id.
    func cacheBase() -> String {
        let env = ProcessInfo.processInfo.environment
        if let d = env["CAIRN_CACHE_DIR"], !d.isEmpty { return d }
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return x + "/cairn" }
        return (env["HOME"] ?? NSTemporaryDirectory()) + "/.cache/cairn"
    }

    func passphrase() throws -> [UInt8] {
        try Passphrase.read(file: passwordFile, envPrefix: "CAIRN", prompt: "Repository passphrase: ")
    }

    func open() async throws -> Repository {
        let store = try StoreLocator.store(for: try repositoryURL())
        return try await Repository.open(store: store, passphrase: try passphrase(), cacheBase: cacheBase())
    }

    var showProgress: Bool { !json && (progress || Terminal.stderrIsTTY) }
}
