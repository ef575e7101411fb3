import ArgumentParser
import CairnEngine
import CairnOps
import CairnRepository
import Foundation

/// `cairn copy`: replicate snapshots into another repository (local, s3:, either way).
struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy snapshots into another repository, storing only the blobs it lacks (resumable).",
        discussion: """
            A destination that holds no repository yet is created, sharing the source's chunker (and with \
            --object-lock MODE --lock-days N on S3, locked like 'cairn init --object-lock'). \
            Into a repository created with 'cairn init --copy-chunker-from SOURCE' blobs are copied by id, \
            as stored (same chunks, perfect dedup, deltas kept: the copy is as small as the source, and nothing \
            is compressed again); into one created with 'cairn init --copy-keys-from SOURCE' (or by 'copy --share-keys') \
            whole packs are copied as they are where the destination lacks all of their blobs; into any other repository file content is re-chunked through the destination's \
            chunker and compressed again, like a backup (dumps and RDB files as deltas against the destination's \
            own chunks). Snapshots already in the destination are skipped, so an interrupted copy \
            is resumed by running it again.
            """)

    @OptionGroup var options: RepositoryOptions
    @OptionGroup var lockOptions: LockOptions

    @Option(help: "The destination repository: a path, local:/path or s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX].")
    var to: String

    @Option(help: "Passphrase file of --to (default: CAIRN_TO_PASSWORD_FILE, CAIRN_TO_PASSWORD, else the source's passphrase).")
    var toPasswordFile: String?

    @Option(help: "Copy only snapshots of this name.")
    var name: String?

    @OptionGroup(title: "Copy only the snapshots these select")
    var filterOptions: SnapshotFilterOptions

    @OptionGroup var lock: ObjectLockOptions

    @Flag(help: "When copy creates the destination, give it the source's master keys (as 'cairn init --copy-keys-from'): packs are then copied whole, as they are.")
    var shareKeys = false

    @Argument(help: "Snapshot ids, unique prefixes or 'latest' (default: every snapshot, or every one of --name).")
    var snapshots: [String] = []

    func run() async throws {
        let objectLock = try lock.policy()
        // Each open derives a key with scrypt (a core for a while): an existing destination is opened
        // beside the source, unless a passphrase must be asked for (prompts one after the other).
        let early = shareKeys || objectLock != nil || !destinationPassphraseNeedsNoPrompt ? nil : Task {
            try await openExistingDestination(passphrase: try Passphrase.destination(file: toPasswordFile, to: to, source: { try options.passphrase() }))
        }
        defer { early?.cancel() }
        let (source, sourceLock) = try await options.openLocked(exclusive: false, operation: "copy (source)", wait: lockOptions.seconds)
        // The source is only read (its credentials may not allow more): nothing is merged there.
        try await sourceLock.holding(compact: false) {
            let records = try filterOptions.filter(names: name.map { [$0] } ?? []).records(ids: snapshots, in: source)
            let opened = try await early?.value
            let pass = try Passphrase.destination(file: toPasswordFile, to: to, source: { try options.passphrase() })
            let guarded = try opened?.store ?? CommitGuardedStore(options.store(to))
            let destination: Repository
            if let opened {
                destination = opened.repo
            } else if try await guarded.size(.config) == nil {
                destination = try await RepositoryCreation.create(url: to, store: guarded, passphrase: pass, like: source,
                                                                  objectLock: objectLock, shareKeys: shareKeys, options: options)
                if !options.json { Terminal.out("created cairn repository \(destination.config.repositoryIDHex.prefix(8)) at \(to) (sharing the source's \(shareKeys ? "master keys and chunker" : "chunker"))") }
            } else {
                if shareKeys {
                    throw CairnError.usage("--share-keys applies when copy creates the destination; \(to) already holds a repository with its own keys (see 'cairn init --copy-keys-from')")
                }
                if objectLock != nil {
                    throw CairnError.usage("--object-lock applies when copy creates the destination; \(to) already holds a repository (its lock was fixed by init)")
                }
                destination = try await Repository.open(store: guarded, passphrase: pass, cacheBase: options.cacheBase(), warnings: TerminalWarnings())
            }
            guard destination.config.repositoryID != source.config.repositoryID else {
                throw CairnError.invalidArgument("--to names the source repository itself: give another repository")
            }
            let destLock = try await LockManager(repo: destination, notice: { Terminal.warn($0) })
                .acquire(exclusive: false, operation: "copy (destination)", wait: lockOptions.seconds)
            guarded.setGuard { try await destLock.ensureValid() }
            try await destLock.holding {
                try await destination.sync()
                let copier = try Copier(source: source, destination: destination, unrecordedProfiles: SourceRegistry.unrecordedProfiles)
                let report = try await ProgressLine.showing(copier.progress.work, verb: "copy", enabled: options.showProgress) {
                    try await copier.copy(records)
                }
                if options.json {
                    Terminal.json(CopyJSON(copied: report.copied.map { CopyJSON.Pair(source: $0.source.hex, destination: $0.destination.hex) },
                                           skipped: report.skipped.map(\.hex), retagged: report.retagged.map { TagJSON(old: $0.old.hex, new: $0.new.hex, tags: $0.tags) },
                                           blobs_copied: report.blobsCopied, blobs_present: report.blobsPresent,
                                           rechunked: report.rechunked, bytes_added: report.bytesAdded,
                                           packs_copied_whole: report.packsCopiedWhole))
                } else {
                    for (s, d) in report.copied { Terminal.out("copied snapshot \(s.prefix(8)) to \(d.prefix(8))") }
                    if !report.skipped.isEmpty { Terminal.out("\(report.skipped.count) snapshot(s) already in \(to)") }
                    for r in report.retagged { Terminal.out("retagged snapshot \(r.old.prefix(8)) in \(to) as in the source: now \(r.new.prefix(8))") }
                    Terminal.out("\(report.blobsCopied) blobs stored, \(report.blobsPresent) already there, \(Terminal.bytes(report.bytesAdded)) added"
                                 + (report.packsCopiedWhole > 0 ? " (\(report.packsCopiedWhole) packs copied whole: the destination shares the source's keys)" : "")
                                 + (report.rechunked ? " (re-chunked: the destination has another chunker, so every chunk was cut and compressed again; see 'cairn init --copy-chunker-from')" : ""))
                }
            }
        }
    }

    /// True when the destination's passphrase comes from a file or the environment (its own, or
    /// the source's when it has none of its own): reading it asks nothing on the terminal.
    private var destinationPassphraseNeedsNoPrompt: Bool {
        let env = ProcessInfo.processInfo.environment
        let ownGiven = toPasswordFile != nil || env["CAIRN_TO_PASSWORD_FILE"] != nil || env["CAIRN_TO_PASSWORD"] != nil
        return ownGiven ? Passphrase.isGivenWithoutPrompt(file: toPasswordFile, envPrefix: "CAIRN_TO")
            : Passphrase.isGivenWithoutPrompt(file: options.passwordFile, envPrefix: "CAIRN")
    }

    /// The destination opened when it exists already (nil when copy is to create it).
    private func openExistingDestination(passphrase: [UInt8]) async throws -> (store: CommitGuardedStore, repo: Repository)? {
        let guarded = CommitGuardedStore(try options.store(to))
        guard try await guarded.size(.config) != nil else { return nil }
        return (guarded, try await Repository.open(store: guarded, passphrase: passphrase, cacheBase: options.cacheBase(), warnings: TerminalWarnings()))
    }
}

struct CopyJSON: Encodable {
    struct Pair: Encodable { let source: String; let destination: String }
    let copied: [Pair]
    let skipped: [String]
    /// Destination snapshots whose tags were brought in line with the source: old and new destination ids.
    let retagged: [TagJSON]
    let blobs_copied: Int
    let blobs_present: Int
    let rechunked: Bool
    let bytes_added: UInt64
    /// Source packs stored as they are (a destination sharing the source's master keys).
    let packs_copied_whole: Int
}
