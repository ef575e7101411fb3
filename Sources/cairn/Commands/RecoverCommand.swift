import ArgumentParser
import CairnEngine
import CairnOps
import CairnRepository
import CairnStorage
import Foundation

/// `cairn recover --as-of TIME --to URL`: the repository as it was at TIME,
/// read from the bucket's object versions (what an attacker deleted or
/// overwrote later is read as it was), verified, and copied into a fresh
/// repository (Docs/immutability.md, the recovery runbook).
struct RecoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Copy the repository as it was at a past time (from S3 object versions) into a fresh repository.",
        discussion: """
            Needs a versioned bucket (every repository made with 'cairn init --object-lock' has one). --repo names \
            the attacked repository and the passphrase is its passphrase as it was at TIME (an attacker's new key \
            files are not seen). Every snapshot that existed at TIME is read, each blob verified, and copied into \
            --to, which must hold no repository yet; the new repository then works like any other. Nothing is \
            written to the attacked repository, and it takes no lock there.
            """)

    @OptionGroup var options: RepositoryOptions

    @Option(help: ArgumentHelp("The moment to go back to, RFC 3339 (e.g. 2026-12-01T00:00:00Z): the last version of each object written at or before it is read.", valueName: "time"))
    var asOf: String

    @Option(help: "The new repository: a path, local:/path or s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX]; it must hold no repository.")
    var to: String

    @Option(help: "Passphrase file of --to (default: CAIRN_TO_PASSWORD_FILE, CAIRN_TO_PASSWORD, else the recovered repository's passphrase).")
    var toPasswordFile: String?

    @OptionGroup var lock: ObjectLockOptions

    func run() async throws {
        let objectLock = try lock.policy()
        let past = try await options.openPast(asOf)
        defer { past.close() }
        let source = past.repository
        let records = try source.snapshots().sorted { $0.snapshot.timeNanos < $1.snapshot.timeNanos }
        let pass = try Passphrase.destination(file: toPasswordFile, to: to, source: { try options.passphrase() })
        let target = try options.store(to)
        guard target.location != past.store.base.location else {
            throw CairnError.usage("--to names the attacked repository itself: recover into a fresh one (another prefix or bucket, or an empty directory)")
        }
        let guarded = CommitGuardedStore(target)
        if try await guarded.size(.config) != nil {
            throw CairnError.invalidArgument("\(to) already holds a repository: recover writes into a fresh one (another prefix or bucket, or an empty directory)")
        }
        let destination = try await RepositoryCreation.create(url: to, store: guarded, passphrase: pass, like: source,
                                                              objectLock: objectLock, options: options)
        let destLock = try await LockManager(repo: destination, notice: { Terminal.warn($0) })
            .acquire(exclusive: false, operation: "recover (destination)", wait: 0)
        guarded.setGuard { try await destLock.ensureValid() }
        let report = try await destLock.holding {
            try await Copier(source: source, destination: destination, unrecordedProfiles: SourceRegistry.unrecordedProfiles).copy(records)
        }
        // The copy read and verified every blob it stored; the new repository's structure is checked whole.
        let check = try await Checker(repo: destination, options: ScrubOptions()).run()
        if options.json {
            Terminal.json(RecoverJSON(as_of: past.moment, to: to, repository: destination.config.repositoryIDHex,
                                      snapshots: report.copied.map { .init(source: $0.source.hex, destination: $0.destination.hex) },
                                      blobs: report.blobsCopied, bytes_added: report.bytesAdded, clean: check.isClean))
        } else {
            Terminal.out("read \(past.store.base.location) as of \(past.moment): \(records.count) snapshot(s)")
            for (s, d) in report.copied { Terminal.out("recovered snapshot \(s.prefix(8)) as \(d.prefix(8))") }
            Terminal.out("\(report.blobsCopied) blobs verified and stored in \(to) (\(Terminal.bytes(report.bytesAdded))); "
                         + (check.isClean ? "the new repository checks clean" : "the new repository's check found problems: run 'cairn scrub --repo \(to)'"))
            Terminal.out("use it from now on: --repo \(to)")
        }
        if !check.isClean { throw CommandFailure.failed("the recovered repository \(to) did not check clean: run 'cairn scrub --repo \(to)'") }
    }
}

struct RecoverJSON: Encodable {
    struct Pair: Encodable { let source: String; let destination: String }
    let as_of: String, to: String, repository: String, snapshots: [Pair], blobs: Int, bytes_added: UInt64, clean: Bool
}
