import ArgumentParser
import CairnCompression
import CairnEngine
import CairnRepository
import CairnOps
import Foundation

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Store files, directory trees, or standard input as a snapshot.",
        discussion: """
            --json prints one JSON document (with --dry-run: the estimate). Docs/commands.md has the selection options.

            Examples:
              cairn backup /etc /home/remes/.remesd/config --name node-config --tag daily
              pg_dump -Fc -Z0 r3mes | cairn backup --stdin --name pg-r3mes
              cairn backup --files-from /etc/cairn/paths.txt --exclude-caches --exclude-larger-than 2G --dry-run
            """)

    @OptionGroup var options: RepositoryOptions
    @OptionGroup var lockOptions: LockOptions

    @Argument(help: "Files and directories to back up, each recorded at its absolute path (a relative one resolved from the current directory), as restic does: 'cairn ls' shows /home/a/conf/..., 'restore --target T' writes T/home/a/conf/... (with --stdin-from-command: the command and its arguments, after '--').")
    var paths: [String] = []

    @Flag(help: "Read the data from standard input (requires --name).")
    var stdin = false

    @Flag(help: "With --stdin: store gzip/zstd/xz/bzip2-compressed input decompressed (it dedups; a restore gives the decompressed stream).")
    var decompress = false

    @Flag(help: "Back up the standard output of the command given after '--' (requires --name); a non-zero exit fails the snapshot.")
    var stdinFromCommand = false

    /// With --stdin-from-command the positional arguments (after '--') are the command.
    private var command: [String] { stdinFromCommand ? paths : [] }

    @Option(help: "Snapshot name (default: the first path's last component).")
    var name: String?

    @OptionGroup var recording: SnapshotRecordingOptions

    @Flag(help: "Re-read files even when size, mtime, ctime and inode are unchanged.")
    var forceRead = false

    @Option(help: "Chunker profile: dump, rdb, wal or file (default: file for paths, dump for --stdin).")
    var chunkProfile: String?

    @Option(help: "Delta compression of changed chunks against similar stored ones: off or auto (auto: on for the dump and rdb profiles).")
    var delta: String?

    @Option(name: .customLong("exclude"), help: "Leave out entries matching this glob (repeatable): without '/' it matches a name anywhere, with '/' the path below the argument; a trailing '/' matches directories only.")
    var excludes: [String] = []

    @Option(help: "Read --exclude patterns from this file, one per line ('#' starts a comment).")
    var excludeFile: String?

    @Flag(help: "Do not descend into directories on other file systems than the argument's.")
    var oneFileSystem = false

    @Flag(help: "Leave out directories holding a CACHEDIR.TAG file with the standard signature (https://bford.info/cachedir/).")
    var excludeCaches = false

    @Option(help: "Leave out files larger than this size (like 500M, 2G; K, M, G, T are powers of 1024).")
    var excludeLargerThan: String?

    @Option(help: "Back up the paths listed in this file, one per line ('#' comments and empty lines ignored; repeatable; - reads standard input).")
    var filesFrom: [String] = []

    @Option(help: "Back up the paths listed in this file exactly as written: separated by NUL bytes (find -print0) when it has any, else one per line with nothing ignored (repeatable).")
    var filesFromVerbatim: [String] = []

    @Flag(help: "Show what would be backed up and how much of it is new; store nothing (no lock, no snapshot).")
    var dryRun = false

    func validate() throws {
        if let delta, !["off", "auto", "on"].contains(delta) { throw ValidationError("--delta must be off or auto") }
        let listed = !filesFrom.isEmpty || !filesFromVerbatim.isEmpty
        if listed && (stdin || stdinFromCommand) { throw ValidationError("--files-from goes with paths, not with --stdin") }
        if dryRun && (stdin || stdinFromCommand) { throw ValidationError("--dry-run goes with paths, not with --stdin (a stream is read either way)") }
        if let excludeLargerThan, PruneOptions.parseSize(excludeLargerThan) == nil {
            throw ValidationError("--exclude-larger-than must be a size like 500M or 2G")
        }
        if stdinFromCommand {
            if stdin { throw ValidationError("give either --stdin or --stdin-from-command, not both") }
            if command.isEmpty { throw ValidationError("--stdin-from-command needs the command after '--'") }
            if name == nil { throw ValidationError("--stdin-from-command needs --name NAME") }
        } else {
            if stdin && !paths.isEmpty { throw ValidationError("give either paths or --stdin, not both") }
            if !stdin && paths.isEmpty && !listed { throw ValidationError("nothing to back up: give paths, --files-from FILE, or --stdin --name NAME") }
            if stdin && name == nil { throw ValidationError("--stdin needs --name NAME") }
            // A terminal is no data stream: the backup would wait forever, holding its lock.
            if stdin && isatty(0) == 1 {
                throw ValidationError("--stdin reads standard input, which is a terminal: pipe the data in, e.g. 'pg_dump -Fc -Z0 mydb | cairn backup --stdin --name mydb'")
            }
        }
        if !stdinFromCommand, paths.contains("") { throw ValidationError("a path is empty (\"\"): name the file or directory to back up") }
        if stdinFromCommand, command.first == "" { throw ValidationError("the command after '--' is empty") }
        if decompress && !stdin { throw ValidationError("--decompress goes with --stdin") }
        if let name { try SnapshotNameArgument.validate(name) }
    }

    /// The paths to back up: the arguments, then those the lists name.
    func allPaths() throws -> [String] {
        guard !stdinFromCommand else { return paths }
        var out = paths
        for f in filesFrom { out += try FilesFromList.read(f, verbatim: false) }
        for f in filesFromVerbatim { out += try FilesFromList.read(f, verbatim: true) }
        if out.isEmpty && !stdin { throw CairnError.invalidArgument("nothing to back up: the --files-from lists name no path") }
        return out
    }

    func run() async throws {
        let paths = try allPaths()
        // A path that does not exist is an error before anything is written (no lock either).
        for p in paths where !stdinFromCommand {
            var st = stat()
            if lstat(p, &st) != 0 && errno == ENOENT { throw CairnError.pathNotFound(p) }
        }
        if dryRun {
            let repo = try await options.open()
            return try await estimate(repo, paths: paths)
        }
        // A shared lock for the whole backup: no prune can delete what it dedups against.
        let (repo, lock) = try await options.openLocked(exclusive: false, operation: "backup", wait: lockOptions.seconds)
        try await lock.holding { try await backup(repo, paths: paths) }
    }

    func backupOptions(paths: [String]) throws -> BackupOptions {
        let snapshotName = name ?? paths.first.map { p -> String in
            // "." or "dir/..": the name of the directory it is.
            let parts = ((try? Archiver.absolutePaths([p]))?.first ?? p).split(separator: "/")
            return parts.last.map(String.init) ?? "root"
        } ?? "stdin"
        var opts = BackupOptions(name: snapshotName)
        recording.apply(to: &opts)
        opts.forceRead = forceRead
        opts.profile = chunkProfile
        opts.delta = delta == "off" ? false : delta == "on" ? true : nil
        opts.exclude = try ExcludePatterns(patterns: excludes, file: excludeFile).hook
        opts.oneFileSystem = oneFileSystem
        opts.excludeCaches = excludeCaches
        opts.excludeLargerThan = excludeLargerThan.flatMap(PruneOptions.parseSize)
        return opts
    }

    /// --dry-run: the estimate, nothing stored.
    func estimate(_ repo: Repository, paths: [String]) async throws {
        let dry = BackupDryRun(repo: repo, options: try backupOptions(paths: paths))
        let e = try await ProgressLine.showing(dry.progress, verb: "scanning", enabled: options.showProgress) { try await dry.run(paths: paths) }
        for w in e.warnings { Terminal.warn(w) }
        if options.json {
            Terminal.json(BackupDryRunJSON(dry_run: true, files: e.files, directories: e.directories, others: e.others, logical_bytes: e.bytes,
                                           files_to_read: e.filesToRead, bytes_to_read: e.bytesToRead, unchanged_files: e.unchangedFiles,
                                           new_bytes: e.newBytes, new_chunks: e.newChunks, warnings: e.warnings))
            return
        }
        Terminal.out("dry run: nothing was stored")
        Terminal.out("would back up \(e.files) files, \(e.directories) directories, \(e.others) other entries: \(Terminal.bytes(e.bytes))")
        Terminal.out("would read \(e.filesToRead) files (\(Terminal.bytes(e.bytesToRead))); \(e.unchangedFiles) unchanged since the last snapshot")
        Terminal.out("new data: \(Terminal.bytes(e.newBytes)) in \(e.newChunks) chunks (before compression)")
    }

    func backup(_ repo: Repository, paths: [String]) async throws {
        var opts = try backupOptions(paths: paths)
        var input: StreamInput? = nil
        if stdin || stdinFromCommand {
            let source = stdin ? try StreamInput(stdinDecompress: decompress) : try StreamInput(command: command)
            opts.beforeCommit = { BackupAdditions(extra: try source.finish()) }
            input = source
        }
        let archiver = Archiver(repo: repo, options: opts)
        let result: BackupResult = try await ProgressLine.showing(archiver.progress, verb: "backing up", enabled: options.showProgress) {
            // The quick scan (restic's): totals for the progress line, counted beside the backup.
            var scan: Task<Void, Never>? = nil
            if options.showProgress && input == nil {
                let scanner = BackupScanner(options: opts), progress = archiver.progress
                scan = Task.detached(priority: .utility) {
                    guard let totals = scanner.scan(paths: paths) else { return }
                    progress.update { $0.filesTotal = totals.files; $0.bytesTotal = totals.bytes }
                }
            }
            do {
                let result = if let input {
                    try await archiver.backup(streamFD: input.fd, prefix: input.prefix, label: stdin ? "-" : command[0])
                } else {
                    try await archiver.backup(paths: paths)
                }
                await scan?.value
                return result
            } catch {
                scan?.cancel()
                throw error
            }
        }
        for w in result.warnings { Terminal.warn(w) }
        let s = result.snapshot
        if options.json {
            Terminal.json(BackupJSON(snapshot_id: result.snapshotID, name: s.name, time: Terminal.rfc3339(s.timeNanos),
                                     logical_bytes: s.logicalBytes, new_bytes: result.newBytes, stored_bytes: result.storedBytes,
                                     files: s.fileCount, unchanged_files: result.unchangedFiles, seconds: result.seconds,
                                     warnings: result.warnings, changed_during_backup: result.changedDuringBackup,
                                     skipped: SnapshotFacts.skippedCount(s.extra)))
        } else {
            Terminal.out("snapshot \(result.snapshotID.prefix(8)) saved: \(Terminal.bytes(s.logicalBytes)) logical, \(Terminal.bytes(result.newBytes)) new, \(Terminal.bytes(result.storedBytes)) stored, \(String(format: "%.2f", result.seconds)) s")
        }
        if !result.warnings.isEmpty {
            let changed = result.changedDuringBackup.count, skipped = SnapshotFacts.skippedCount(s.extra)
            if changed > 0 { Terminal.warn("\(changed) file(s) changed while the backup ran: the snapshot may hold torn copies of them") }
            if skipped > 0 { Terminal.warn("\(skipped) item(s) are not in the snapshot (unreadable, or replaced after the scan)") }
            if !SnapshotFacts.holdsEverySource(s.extra) {
                Terminal.warn("\(s.extra[SnapshotFacts.sourcesMissing] ?? "?") of the \(s.paths.count) paths could not be read at all: 'cairn status' does not count this snapshot")
            }
            // The warnings above say what is missing.
            throw CommandFailure(ExitStatus.partial)
        }
    }
}

struct BackupDryRunJSON: Encodable {
    let dry_run: Bool
    let files: UInt64, directories: UInt64, others: UInt64, logical_bytes: UInt64
    let files_to_read: UInt64, bytes_to_read: UInt64, unchanged_files: UInt64
    let new_bytes: UInt64, new_chunks: UInt64
    let warnings: [String]
}

struct BackupJSON: Encodable {
    let snapshot_id: String
    let name: String
    let time: String
    let logical_bytes: UInt64
    let new_bytes: UInt64
    let stored_bytes: UInt64
    let files: UInt64
    let unchanged_files: UInt64
    let seconds: Double
    let warnings: [String]
    var changed_during_backup: [String] = []
    /// Entries not in the snapshot (unreadable, or replaced after the scan).
    var skipped = 0
}
