import ArgumentParser
import CairnEngine
import CairnRepository
import CairnNode
import CairnTarExport
import CLinuxShims
import Foundation

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: "Materialise a snapshot into a directory or onto standard output.")

    @OptionGroup var options: RepositoryOptions
    @OptionGroup var asOfOptions: AsOfOptions
    @OptionGroup var lockOptions: ReadLockOptions

    @OptionGroup var choice: SnapshotChoice

    @Option(help: "Directory to restore into (created if missing).")
    var target: String?

    @Option(name: .customLong("include"), help: "Restore only this path of the snapshot (repeatable), its full path as 'cairn ls' shows it (/home/a/conf): its bytes, or escaped as ls prints it (\\n, \\xe9, \\\\). It is restored at that path under --target.")
    var includes: [String] = []

    @Flag(help: "Write the snapshot's single stream or file to standard output.")
    var stdout = false

    @Flag(help: "Write a tree snapshot as a POSIX pax tar stream to standard output.")
    var tar = false

    @Flag(help: "Allow replacing a priv_validator_state.json that records a higher height/round/step (risks double-signing).")
    var allowSigningStateRollback = false

    /// Allocations from this size on get an mmap of their own (a span of a pack: `ByteBufferPool` reuses those).
    static let mmapThreshold: Int32 = 4 << 20

    func validate() throws {
        if [stdout, target != nil, tar].filter({ $0 }).count != 1 { throw ValidationError("give exactly one of --target DIR, --stdout or --tar") }
        if target == "" { throw ValidationError("--target is empty: name the directory to restore into") }
        if tar && !includes.isEmpty { throw ValidationError("--include goes with --target") }
        if stdout && !includes.isEmpty { throw ValidationError("--include goes with --target") }
    }

    func run() async throws {
        // Blob plaintexts and compressed frames (up to a few MiB) come from
        // malloc's heaps and are reused, not each a fresh mmap whose pages
        // fault in zeroed: the trim threshold set at startup also turned
        // glibc's adaptive mmap threshold off (Docs/performance.md, issue 16.6).
        cairn_set_malloc_mmap_threshold(Self.mmapThreshold)
        let past = try await asOfOptions.asOf.asyncMap { try await options.openPast($0) }
        defer { past?.close() }
        let repo: Repository
        if let past { repo = past.repository } else { repo = try await options.openForReading(operation: "restore", lockOptions: lockOptions) }
        let record = try choice.resolve(in: repo)
        let restorer = Restorer(repo: repo, snapshot: record)
        func showingProgress<T>(_ work: () async throws -> T) async throws -> T {
            try await ProgressLine.showing(restorer.progress, verb: "restoring", enabled: options.showProgress, during: work)
        }
        if stdout {
            let n = try await showingProgress { try await restorer.restoreSingleFile(to: 1) }
            if options.json { Terminal.info("{\"snapshot_id\":\"\(record.id)\",\"bytes\":\(n)}") }
            return
        }
        if tar {
            signal(SIGPIPE, SIG_IGN)
            var export = TarExport(repo: repo, restorer: restorer, fd: 1)
            try await showingProgress { try await export.run(root: record.snapshot.root) }
            for w in export.warnings { Terminal.warn(w) }
            if options.json { Terminal.info("{\"snapshot_id\":\"\(record.id)\",\"members\":\(export.members),\"bytes\":\(export.bytes)}") }
            return
        }
        guard let target else { return }
        // Raw or escaped (as `ls` prints them), as bytes.
        let includePaths = try await IncludePaths.resolve(includes, record: record, repo: repo)
        // Every --include must name something, checked before anything is written.
        let browser = SnapshotBrowser(repo: repo)
        var absent: [String] = []
        for (given, components) in zip(includes, includePaths) where !components.isEmpty {
            if try await browser.node(at: components, in: record) == nil { absent.append(given) }
        }
        if !absent.isEmpty {
            let hint = SnapshotFacts.hasFullPaths(record.snapshot.extra) ? "" : "; this snapshot predates full paths: its paths start with the last component of what was backed up"
            throw CairnError.invalidArgument("\(absent.joined(separator: ", ")): no such path in snapshot \(record.id.prefix(8)); nothing was restored ('cairn ls \(record.id.prefix(8))' lists its paths\(hint))")
        }
        let relativeIncludes = includePaths.map { c in c.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/") }
        for w in try await SigningStateGuard.check(repo: repo, record: record, target: target, includes: relativeIncludes,
                                                   allowRollback: allowSigningStateRollback) {
            Terminal.warn(w)
        }
        let r = try await showingProgress { try await restorer.restore(to: target, includeComponents: includePaths) }
        for w in r.warnings { Terminal.warn(w) }
        if options.json {
            Terminal.json(RestoreJSON(snapshot_id: record.id.hex, target: target, files: r.files, directories: r.directories, bytes: r.bytes, warnings: r.warnings))
        } else {
            Terminal.out("restored snapshot \(record.id.prefix(8)) to \(target): \(r.files) files, \(r.directories) directories, \(Terminal.bytes(r.bytes))")
        }
    }
}

struct RestoreJSON: Encodable {
    let snapshot_id: String, target: String, files: UInt64, directories: UInt64, bytes: UInt64, warnings: [String]
}
