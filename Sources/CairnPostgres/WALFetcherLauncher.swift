import CairnEngine
import CairnRepository
import CairnStorage
import CairnSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What `WALSpoolClient.serve` starts when no fetcher fills the spool: `WALFetcherLauncher` in
/// `wal-fetch`, a stand-in in tests.
public protocol WALFetcherStarting {
    /// Starts a fetcher that fills `spool` from segment `first`, handing it the spool's lock `lockFD`
    /// holds (the caller closes its own descriptor afterwards; the fetcher keeps the lock until it exits).
    func start(spool: WALSpool, lockFD: Int32, from first: String) throws
}

/// Starts `cairn wal-fetch-ahead` (the background read-ahead, `WALReadAhead`) detached: its own
/// session, so PostgreSQL's signals to the restore_command's process group do not reach it and
/// `wal-fetch` returns at once; holding the spool's lock (the descriptor is handed over as fd 3), with
/// its messages in the spool's `fetcher.log`, and no other descriptor. Its secrets (the passphrase, and the S3 credentials when
/// they came from the environment) go through a pipe on its standard input (`WALFetcherSecrets`):
/// never its command line or environment. The spool's lock file names no pid until the child's is
/// known, so a stale pid is never taken for the new fetcher's.
public struct WALFetcherLauncher: WALFetcherStarting {
    /// Names of the variables carried through the pipe rather than the environment.
    public static let pipedVariables = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]

    /// The cairn binary (the running one: `ChildRunner.selfExecutable`).
    public let executable: String
    public let repositoryURL: String
    public let walName: String
    /// The fetcher's `--capacity` (`wal-fetch --prefetch`), `--jobs` and `--idle` seconds.
    public let capacity: Int
    public let jobs: Int
    public let idleSeconds: Double
    /// Further repository options for the fetcher's command line (`--connections`, `--key-hint`, …; none a secret).
    public let repositoryArguments: [String]
    /// The repository passphrase, asked for only when a fetcher is started (and zeroed after).
    public let passphrase: () throws -> [UInt8]

    public init(executable: String, repositoryURL: String, walName: String, capacity: Int, jobs: Int, idleSeconds: Double,
                repositoryArguments: [String], passphrase: @escaping () throws -> [UInt8]) {
        self.executable = executable
        self.repositoryURL = repositoryURL
        self.walName = walName
        self.capacity = capacity
        self.jobs = jobs
        self.idleSeconds = idleSeconds
        self.repositoryArguments = repositoryArguments
        self.passphrase = passphrase
    }

    /// The fetcher's arguments (after the program) for a spool and a first segment.
    public func arguments(spool: WALSpool, from first: String) -> [String] {
        ["wal-fetch-ahead", "--repo", repositoryURL, "--wal-name", walName, "--spool", spool.path,
         "--capacity", String(capacity), "--jobs", String(jobs), "--idle", String(idleSeconds)]
            + repositoryArguments + [first]
    }

    public func start(spool: WALSpool, lockFD: Int32, from first: String) throws {
        spool.setWindow(nil)
        spool.setEndOfArchive(nil)
        var secret = try passphrase()
        defer { for i in secret.indices { secret[i] = 0 } }
        _ = try spawn(arguments: arguments(spool: spool, from: first), spool: spool, lockFD: lockFD, passphrase: secret)
    }

    /// Starts `executable` with `arguments` as the spool's fetcher; returns its pid.
    func spawn(arguments: [String], spool: WALSpool, lockFD: Int32, passphrase: [UInt8]) throws -> pid_t {
        WALSpool.recordFetcher(pid: 0, lockFD: lockFD)
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { throw CairnError.invalidArgument("cannot create a pipe: \(String(cString: strerror(errno)))") }
        for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { close(pipeFDs[0]) }
        // Small (well under the pipe's 64 KiB): written whole before the child reads it.
        var message = WALFetcherSecrets.encode(passphrase: passphrase, variables: Self.pipedVariables.compactMap { name in
            ProcessInfo.processInfo.environment[name].map { (name, $0) }
        })
        let written = (try? message.withUnsafeBytes { try FileDescriptorIO.writeAll(pipeFDs[1], $0) }) != nil
        for i in message.indices { message[i] = 0 }
        close(pipeFDs[1])
        guard written else { throw CairnError.invalidArgument("cannot hand the passphrase to the fetcher") }
        posix_spawn_file_actions_adddup2(&fa, pipeFDs[0], 0)
        // Appended to (the last fetchers' messages together), restarted once it passes 1 MiB.
        let log = spool.path + "/fetcher.log"
        var st = stat()
        let restart = stat(log, &st) == 0 && st.st_size > 1 << 20
        posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_NOFOLLOW | (restart ? O_TRUNC : O_APPEND), 0o600)
        posix_spawn_file_actions_adddup2(&fa, 1, 2)
        // dup2 onto itself would keep close-on-exec: hand over a copy when the lock is fd 3 already.
        let handed = lockFD == 3 ? fcntl(lockFD, F_DUPFD_CLOEXEC, 10) : lockFD
        defer { if handed != lockFD { close(handed) } }
        posix_spawn_file_actions_adddup2(&fa, handed, 3)
        // Nothing else: the fetcher outlives this command (it lingers up to --spool-idle after the
        // recovery), and whatever started wal-fetch (PostgreSQL's startup process, a script) may have
        // left descriptors open across exec (its sockets, pipes a caller waits on for their end).
        for fd in Self.keptAcrossExec(from: 4) { posix_spawn_file_actions_addclose(&fa, fd) }
        var env = ChildEnvironment.build(for: .cairn)
        env.removeValue(forKey: "CAIRN_ENV_FILE")  // applied already; what it set is inherited (secrets through the pipe)
        let pid: pid_t
        do {
            pid = try ProcessSpawn.spawn([executable] + arguments, environment: env, fileActions: &fa,
                                         defaultSignals: [SIGPIPE, SIGINT, SIGTERM, SIGHUP], newSession: true)
        } catch {
            throw CairnError.invalidArgument("cannot start the WAL fetcher: \(error)")
        }
        WALSpool.recordFetcher(pid: pid, lockFD: lockFD)
        return pid
    }

    /// This process's descriptors from `first` on that a child would inherit (not close-on-exec).
    /// (`posix_spawn_file_actions_addclosefrom_np` is not imported into Swift.)
    static func keptAcrossExec(from first: Int32) -> [Int32] {
        guard let names = try? DirectoryReader.stringNames("/proc/self/fd") else { return [] }
        // The listing's own descriptor is closed by now: fcntl fails (-1, every bit set) and leaves it out.
        return names.compactMap { Int32($0) }.filter { $0 >= first && fcntl($0, F_GETFD) & FD_CLOEXEC == 0 }
    }
}
