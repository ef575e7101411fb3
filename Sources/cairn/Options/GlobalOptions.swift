import ArgumentParser
import CairnEngine
import CairnRepository
import CairnPlan
import CairnStorage
import CairnStores
import Foundation

/// Options every repository command takes, before or after the command's
/// name (`GlobalArguments`).
struct RepositoryOptions: ParsableArguments {
    @Option(name: [.customShort("r"), .long], help: "Repository: a path, local:/path or s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX] (default: $CAIRN_REPO).")
    var repo: String?

    @Option(name: .long, help: "File holding the passphrase (default: $CAIRN_PASSWORD_FILE).")
    var passwordFile: String?

    @Option(name: .long, help: "Keep the unlocked key in the kernel user keyring this long (e.g. 15m), so later commands skip the key derivation (default: $CAIRN_KEY_CACHE, else off).")
    var keyCache: String?

    @Option(name: .long, help: "Key file (id or unique prefix) to try first; the others are tried within a time budget (default: $CAIRN_KEY_HINT).")
    var keyHint: String?

    @Flag(name: .long, help: "Print machine-readable JSON: one document (ls, diff and find print JSON lines, one object per line). Times are RFC 3339 UTC.")
    var json = false

    @Flag(name: .long, help: "Show progress even when standard error is not a terminal (there: a plain line every 5 s and one at the end, no terminal control codes).")
    var progress = false

    @Option(name: .long, help: "Requests in flight to a remote (s3:) repository.")
    var connections: Int = 8

    @Option(name: .long, help: "Upload bandwidth limit in KiB/s (s3: repositories).")
    var limitUpload: Int?

    @Option(name: .long, help: "Download bandwidth limit in KiB/s (s3: repositories).")
    var limitDownload: Int?

    @Flag(name: .long, help: "Address the bucket as BUCKET.HOST instead of HOST/BUCKET.")
    var s3VirtualHost = false

    @Option(name: .long, help: "S3 storage class for data packs (metadata stays STANDARD).")
    var s3StorageClass: String?

    /// How URLs become stores, from the flags above.
    func storeOptions() throws -> StoreOptions {
        guard (1...256).contains(connections) else { throw ValidationError("--connections must be 1...256") }
        for (name, v) in [("--limit-upload", limitUpload), ("--limit-download", limitDownload)] {
            if let v, v <= 0 { throw ValidationError("\(name) must be a positive number of KiB/s") }
        }
        var o = StoreOptions()
        o.connections = connections
        o.uploadLimitKiB = limitUpload
        o.downloadLimitKiB = limitDownload
        o.s3VirtualHost = s3VirtualHost
        o.s3StorageClass = s3StorageClass
        return o
    }

    /// The store at `url` (default: the repository) with these options, through the one registry
    /// of store backends.
    func store(_ url: String? = nil) throws -> any ObjectStore {
        let url = try url ?? repositoryURL()
        let options = try storeOptions()
        return try Self.locationErrors { try StoreRegistry.standard.store(for: url, options: options) }
    }

    /// Creates what a new repository at `url` needs before its first write (an S3 bucket, with Object
    /// Lock when `objectLock`); nothing for a local path.
    func prepareNewRepository(url: String, objectLock: Bool) async throws {
        let options = try storeOptions()
        do { try await StoreRegistry.standard.prepareNewRepository(url: url, options: options, objectLock: objectLock) } catch let e as StoreLocationError {
            throw Self.cairnError(e)
        }
    }

    /// A URL that does not parse is a usage error (exit 2); a store that cannot be reached is not.
    private static func cairnError(_ e: StoreLocationError) -> CairnError {
        switch e {
        case .badLocation(let m): return .usage(m)
        case .unusable(let m): return .invalidArgument(m)
        }
    }

    private static func locationErrors<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as StoreLocationError { throw cairnError(e) }
    }

    func repositoryURL() throws -> String {
        guard let url = repo ?? ProcessInfo.processInfo.environment["CAIRN_REPO"], !url.isEmpty else {
            throw CairnError.usage("no repository given: use --repo PATH or set CAIRN_REPO")
        }
        return url
    }

    /// The cache base: $CAIRN_CACHE_DIR, else $XDG_CACHE_HOME/cairn, else ~/.cache/cairn,
    /// skipping directories of other users (`CacheLocation`).
    /// Each repository gets a subdirectory named by its id.
    func cacheBase() -> String {
        CacheLocation.choose(CacheLocation.candidates(environment: ProcessInfo.processInfo.environment))
    }

    /// After the passphrase file opened the repository: warns when others can read it.
    func warnIfPassphraseFileExposed() {
        Passphrase.warnIfExposed(Passphrase.filePath(file: passwordFile, envPrefix: "CAIRN"))
    }

    func passphrase() throws -> [UInt8] {
        try Passphrase.read(file: passwordFile, envPrefix: "CAIRN", prompt: "Repository passphrase: ")
    }

    func open() async throws -> Repository {
        let store = try self.store()
        let repo = try await Repository.open(store: store, passphrase: try passphrase(), cacheBase: cacheBase(), keyCache: try keyCacheSetting(),
                                             keyHint: keyHintSetting, warnings: TerminalWarnings())
        warnIfPassphraseFileExposed()
        return repo
    }

    /// `--key-hint` or $CAIRN_KEY_HINT (restic's RESTIC_KEY_HINT).
    var keyHintSetting: String? {
        guard let hint = keyHint ?? ProcessInfo.processInfo.environment["CAIRN_KEY_HINT"], !hint.isEmpty else { return nil }
        return hint
    }

    /// `--key-cache` or $CAIRN_KEY_CACHE as a `KeyCache`; nil when off.
    func keyCacheSetting() throws -> KeyCache? {
        guard let text = keyCache ?? ProcessInfo.processInfo.environment["CAIRN_KEY_CACHE"], !text.isEmpty, text != "off", text != "0" else { return nil }
        guard let seconds = PlanDuration.fractionalSeconds(text) else {
            throw ValidationError("--key-cache \(text.debugDescription) is not a duration like 15m or 1h (or off)")
        }
        return KeyCache(seconds: seconds)
    }

    var showProgress: Bool { !json && (progress || Terminal.stderrIsTTY) }
}
