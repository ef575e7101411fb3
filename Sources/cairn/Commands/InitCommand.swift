import ArgumentParser
import CairnCompression
import CairnEngine
import CairnRepository
import CairnFormat
import CairnStorage
import Foundation

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create a repository (never overwrites one).")

    @OptionGroup var options: RepositoryOptions

    @Option(name: [.customLong("pack-size-mib"), .customLong("pack-size")], help: "Target pack size in MiB.")
    var packSizeMiB: UInt32 = 16

    @Option(help: "Default compression: off, fast, default, max or a zstd level 1-22.")
    var compression = "default"

    @Option(help: "Share this repository's chunker seed and profiles, so 'cairn copy' between the two dedups perfectly.")
    var copyChunkerFrom: String?

    @Option(help: ArgumentHelp("Share this repository's master keys (and so its chunker): 'cairn copy' between the two then copies whole packs as they are, at the speed of copying files.",
                               discussion: "Whoever can open either repository can read the other's packs: use it for copies of one repository (off-site, S3 tiers), not to keep tenants apart."))
    var copyKeysFrom: String?

    @Option(help: "Passphrase file of --copy-chunker-from or --copy-keys-from (default: CAIRN_FROM_PASSWORD_FILE, CAIRN_FROM_PASSWORD, else the new passphrase).")
    var fromPasswordFile: String?

    @Option(help: "Repository format: 2 (latest, the default) or 1, for a repository that Cairn versions before format 2 must read too ('cairn migrate' converts it later).")
    var repositoryVersion = "latest"

    func validate() throws {
        if copyKeysFrom != nil && copyChunkerFrom != nil {
            throw ValidationError("give --copy-keys-from or --copy-chunker-from, not both (--copy-keys-from shares the chunker too)")
        }
        guard ["1", "2", "latest"].contains(repositoryVersion) else {
            throw ValidationError("--repository-version must be 1, 2 or latest")
        }
    }

    @OptionGroup var lock: ObjectLockOptions

    func run() async throws {
        guard let level = Zstd.level(named: compression) else {
            throw ValidationError("--compression must be off, fast, default, max or 1-22")
        }
        guard (1...512).contains(packSizeMiB) else { throw ValidationError("--pack-size-mib must be 1...512") }
        let objectLock = try lock.policy()
        let url = try options.repositoryURL()
        let store = try options.store(url)
        let pass = try Passphrase.read(file: options.passwordFile, envPrefix: "CAIRN", prompt: "New repository passphrase: ", confirm: true)
        var create = Repository.CreateOptions()
        create.packSize = packSizeMiB << 20
        create.compressionLevel = level
        create.formatVersion = repositoryVersion == "1" ? 1 : ObjectEnvelope.newestFormatVersion
        if let from = copyChunkerFrom ?? copyKeysFrom {
            let env = ProcessInfo.processInfo.environment
            let fromPass: [UInt8]
            if fromPasswordFile != nil || env["CAIRN_FROM_PASSWORD_FILE"] != nil || env["CAIRN_FROM_PASSWORD"] != nil {
                fromPass = try Passphrase.read(file: fromPasswordFile, envPrefix: "CAIRN_FROM", prompt: "Passphrase of \(from): ")
            } else {
                fromPass = pass
            }
            let other = try await Repository.open(store: try options.store(from), passphrase: fromPass, cacheBase: options.cacheBase(), warnings: TerminalWarnings())
            create.chunkerSeed = other.chunkerSeed
            create.profiles = other.config.profiles
            if copyKeysFrom != nil {
                create.keyring = other.keys
                create.chunkerSeed = other.config.chunkerSeed
            }
        }
        create.objectLock = objectLock
        try await options.prepareNewRepository(url: url, objectLock: objectLock != nil)
        if let local = store as? LocalStore { try Self.makeParentDirectories(local.root) }
        let repo = try await Repository.create(store: store, passphrase: pass, cacheBase: options.cacheBase(), options: create, warnings: TerminalWarnings())
        options.warnIfPassphraseFileExposed()
        // Space a delete-only prune can use once backups have filled the disk (Docs/retention.md).
        if let local = store as? LocalStore { SpaceReserve(store: local).refresh() }
        if options.json {
            Terminal.json(InitJSON(repository: url, id: repo.config.repositoryIDHex, repository_version: Int(repo.formatVersion),
                                   object_lock: objectLock.map { .init(mode: $0.mode.name, days: $0.days) }))
        } else {
            Terminal.out("created cairn repository \(repo.config.repositoryIDHex.prefix(8)) at \(url) (format version \(repo.formatVersion))")
            if let objectLock { Terminal.out("every object is written with S3 Object Lock (\(objectLock.mode.name), \(objectLock.days) days); run 'cairn lock extend' (or 'cairn run') at least every \(max(1, objectLock.days / 2)) days to keep what is still used locked") }
            Terminal.out("keep the passphrase safe: without it the data cannot be read")
        }
    }

    /// Creates the missing parent directories of a local repository, as
    /// `mkdir -p` does (0755 less the umask, so a group-shared parent keeps
    /// passing its group down); the store creates the repository directory itself.
    static func makeParentDirectories(_ root: String) throws {
        var path = root
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        var missing: [String] = []
        var parent = (path as NSString).deletingLastPathComponent
        var st = stat()
        while !parent.isEmpty && parent != "/" && stat(parent, &st) != 0 {
            guard errno == ENOENT else { throw CairnError.io("cannot create \(root): \(parent): \(String(cString: strerror(errno)))") }
            missing.insert(parent, at: 0)
            parent = (parent as NSString).deletingLastPathComponent
        }
        if !missing.isEmpty, stat(parent.isEmpty ? "." : parent, &st) == 0, (st.st_mode & S_IFMT) != S_IFDIR {
            throw CairnError.io("cannot create \(root): \(parent) is not a directory")
        }
        for dir in missing {
            guard mkdir(dir, 0o755) == 0 || errno == EEXIST else {
                throw CairnError.io("cannot create \(dir): \(String(cString: strerror(errno)))")
            }
        }
        if !missing.isEmpty { Terminal.info("created \(missing.count == 1 ? "directory" : "directories") \(missing.joined(separator: ", "))") }
    }
}

/// `init --json`: the object lock only when one was asked for.
struct InitJSON: Encodable {
    struct Lock: Encodable { let mode: String; let days: Int }
    let repository: String, id: String, repository_version: Int
    let object_lock: Lock?
}
