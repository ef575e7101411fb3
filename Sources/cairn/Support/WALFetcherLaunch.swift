import CairnEngine
import CairnOps
import CairnPostgres
import CairnRepository
import CairnSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts `cairn wal-fetch-ahead` detached (its own session, so PostgreSQL's signals to the
/// restore_command's process group do not reach it, and `wal-fetch` returns at once), holding the
/// spool's lock (the descriptor is handed over as fd 3), with its messages in the spool's
/// `fetcher.log`. Its secrets (the passphrase, and the S3 credentials when they came from the
/// environment) go through a pipe on its standard input: never its command line or environment.
enum WALFetcherLaunch {
    /// Names of the variables carried through the pipe rather than the environment.
    static let pipedVariables = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]

    static func start(arguments: [String], spool: WALSpool, lockFD: Int32, passphrase: [UInt8]) throws -> pid_t {
        // No pid until the child's is known: a stale one must never be taken for the new fetcher's.
        WALSpool.recordFetcher(pid: 0, lockFD: lockFD)
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { throw CairnError.invalidArgument("cannot create a pipe: \(String(cString: strerror(errno)))") }
        for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { close(pipeFDs[0]) }
        // Small (well under the pipe's 64 KiB): written whole before the child reads it.
        var message = SecretMessage.encode(passphrase: passphrase, variables: pipedVariables.compactMap { name in
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
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGINT, SIGTERM, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        // POSIX_SPAWN_SETSID (0x80, glibc 2.26) is not imported into Swift.
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK) | 0x80)
        var env = ChildEnvironment.build(for: .cairn)
        env.removeValue(forKey: "CAIRN_ENV_FILE")  // applied already; what it set is inherited (secrets through the pipe)
        let argv = [ChildRunner.selfExecutable] + arguments
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &fa, &attr, cArgs, cEnv)
        guard rc == 0 else { throw CairnError.invalidArgument("cannot start the WAL fetcher: \(String(cString: strerror(rc)))") }
        WALSpool.recordFetcher(pid: pid, lockFD: lockFD)
        return pid
    }
}

/// The fetcher's secrets on its standard input: `passphrase HEX` and `env NAME HEX` lines.
enum SecretMessage {
    static func encode(passphrase: [UInt8], variables: [(String, String)]) -> [UInt8] {
        var out = Array("passphrase ".utf8) + Array(hex(passphrase).utf8) + [10]
        for (name, value) in variables { out += Array("env \(name) \(hex(Array(value.utf8)))\n".utf8) }
        return out
    }

    /// Reads the message from `fd` (at most 64 KiB): the passphrase, and the variables to set.
    static func read(fd: Int32) throws -> (passphrase: [UInt8], variables: [(String, String)]) {
        var data: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while data.count < 1 << 16 {
            guard let n = try? buf.withUnsafeMutableBytes({ try FileDescriptorIO.read(fd, into: $0) }), n > 0 else { break }
            data += buf[0..<n]
        }
        defer { for i in data.indices { data[i] = 0 } }
        var passphrase: [UInt8]? = nil
        var variables: [(String, String)] = []
        for line in data.split(separator: 10) {
            let parts = line.split(separator: 32).map { Array($0) }
            if parts.count == 2, parts[0] == Array("passphrase".utf8), let p = unhex(parts[1]) { passphrase = p }
            else if parts.count == 3, parts[0] == Array("env".utf8), let v = unhex(parts[2]) {
                variables.append((String(decoding: parts[1], as: UTF8.self), String(decoding: v, as: UTF8.self)))
            }
        }
        guard let passphrase, !passphrase.isEmpty else { throw CairnError.noPassphrase }
        return (passphrase, variables)
    }

    private static func hex(_ b: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(b.count * 2)
        for x in b { out.append(digits[Int(x >> 4)]); out.append(digits[Int(x & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    private static func unhex(_ s: [UInt8]) -> [UInt8]? {
        guard s.count % 2 == 0 else { return nil }
        func v(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            default: return nil
            }
        }
        var out: [UInt8] = []
        var i = 0
        while i < s.count {
            guard let hi = v(s[i]), let lo = v(s[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
