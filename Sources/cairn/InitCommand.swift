import ArgumentParser
import CairnCompression
import CairnEngine
import CairnFormat

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create a repository (never overwrites one).")

    @OptionGroup var options: RepositoryOptions

    @Option(name: [.customLong("pack-size-mib"), .customLong("pack-size")], help: "Target pack size in MiB.")
    var packSizeMiB: UInt32 = 16

    @Option(help: "Default compression: off, fast, default, max or a zstd level 1-22.")
    var compression = "default"

    func run() async throws {
        guard let level = Zstd.level(named: compression) else {
            throw ValidationError("--compression must be off, fast, default, max or 1-22")
        }
        guard (1...512).contains(packSizeMiB) else { throw ValidationError("--pack-size-mib must be 1...512") }
        let url = try options.repositoryURL()
        let store = try options.store(url)
        let pass = try Passphrase.read(file: options.passwordFile, envPrefix: "CAIRN", prompt: "New repository passphrase: ", confirm: true)
        var create = Repository.CreateOptions()
        create.packSize = packSizeMiB << 20
        create.compressionLevel = level
        try await options.storeOptions().prepareNewRepository(url: url)
        let repo = try await Repository.create(store: store, passphrase: pass, cacheBase: options.cacheBase(), options: create)
        if options.json {
            Terminal.json(["repository": url, "id": repo.config.repositoryIDHex])
        } else {
            Terminal.out("created cairn repository \(repo.config.repositoryIDHex.prefix(8)) at \(url)")
            Terminal.out("keep the passphrase safe: without it the data cannot be read")
        }
    }
}
