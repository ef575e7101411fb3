import CairnTestSupport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A temporary directory owned by the unprivileged user the clusters run as,
/// holding a copy of the `cairn` binary, an initialised repository, its
/// passphrase file and the env file `archive_command`/`restore_command` read.
final class Sandbox {
    let dir: String
    let cairn: String
    let repo: String
    let envFile: String
    /// uid/gid of the user clusters and `cairn` run as (the `postgres` account when root).
    let uid: uid_t
    let gid: gid_t
    let asRoot: Bool

    init() throws {
        asRoot = geteuid() == 0
        if asRoot {
            guard let pw = getpwnam("postgres") else {
                throw Failure("the tests run as root and need the 'postgres' account to run PostgreSQL (install postgresql-15)")
            }
            uid = pw.pointee.pw_uid; gid = pw.pointee.pw_gid
        } else {
            uid = geteuid(); gid = getegid()
        }
        var template = Array("/tmp/cairn-pg-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw Failure("mkdtemp failed") }
        dir = String(cString: p)
        chmod(dir, 0o755)
        chown(dir, uid, gid)
        // The postgres user may not reach the build directory: give it its own copy.
        cairn = dir + "/cairn"
        try FileManager.default.copyItem(atPath: try CairnBinary.path(), toPath: cairn)
        chmod(cairn, 0o755)
        repo = dir + "/repo"
        envFile = dir + "/cairn.env"
        try write(dir + "/passphrase", "correct horse battery staple\n", mode: 0o600)
        try write(envFile, "# written by the tests\nCAIRN_REPO=\(repo)\nCAIRN_PASSWORD_FILE=\(dir)/passphrase\nCAIRN_CACHE_DIR=\(dir)/cache\n", mode: 0o640)
        try cairnRun(["init"], env: repositoryEnvironment).check("cairn init")
    }

    deinit {
        _ = try? FileManager.default.removeItem(atPath: dir)
    }

    /// The repository settings as environment variables, for commands that do not read env files.
    var repositoryEnvironment: [String: String] {
        ["CAIRN_REPO": repo, "CAIRN_PASSWORD_FILE": dir + "/passphrase", "CAIRN_CACHE_DIR": dir + "/cache"]
    }

    /// An env file whose repository does not exist (a wrong path, an unmounted disk).
    func brokenEnvFile() throws -> String {
        let path = dir + "/broken.env"
        try write(path, "CAIRN_REPO=\(dir)/nowhere\nCAIRN_PASSWORD_FILE=\(dir)/passphrase\nCAIRN_CACHE_DIR=\(dir)/cache\n", mode: 0o640)
        return path
    }

    /// Writes a file owned by the unprivileged user.
    func write(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, mode)
        chown(path, uid, gid)
    }

    /// Runs a program as the unprivileged user (through runuser when root), with extra environment.
    func runAsUser(_ argv: [String], env: [String: String] = [:], stdin: Data? = nil, cwd: String? = nil, timeout: Double = 300) throws -> RunResult {
        let full = asRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + argv : argv
        return try Runner.run(full, env: env, stdin: stdin, cwd: cwd ?? dir, timeout: timeout)
    }

    /// Runs `cairn` as the unprivileged user with the env file in CAIRN_ENV_FILE.
    func cairnRun(_ args: [String], env: [String: String] = [:], stdin: Data? = nil) throws -> RunResult {
        try runAsUser([cairn] + args, env: ["CAIRN_ENV_FILE": envFile].merging(env) { $1 }, stdin: stdin)
    }
}

/// A finished child process.
struct RunResult {
    let argv: [String]
    let status: Int32
    let out: String
    let err: String

    @discardableResult
    func check(_ what: String, log: String? = nil) throws -> RunResult {
        guard status == 0 else {
            let logTail = log.flatMap { FileManager.default.contents(atPath: $0) }.map { String(decoding: $0, as: UTF8.self).suffix(1500) } ?? ""
            throw Failure("\(what) exited \(status)\nstdout: \(out.suffix(1500))\nstderr: \(err.suffix(1500))\n\(logTail)")
        }
        return self
    }

    var summary: String { "\(argv.suffix(6).joined(separator: " ")) -> \(status)\nstdout: \(out.suffix(1200))\nstderr: \(err.suffix(1200))" }
}

/// Runs a child with posix_spawn and waitpid. (Foundation's Process waits for
/// descriptors a daemon started by the child — `pg_ctl start` — keeps open.)
enum Runner {
    static func run(_ argv: [String], env: [String: String], stdin: Data?, cwd: String, timeout: Double) throws -> RunResult {
        var environment = ProcessInfo.processInfo.environment
        for k in environment.keys where k.hasPrefix("CAIRN_") && k != "CAIRN_PG_BIN" { environment.removeValue(forKey: k) }
        environment.merge(env) { $1 }
        let tmp = NSTemporaryDirectory() + "cairn-pgtest-\(UUID().uuidString)"
        defer { unlink(tmp + ".out"); unlink(tmp + ".err"); unlink(tmp + ".in") }
        guard FileManager.default.createFile(atPath: tmp + ".in", contents: stdin ?? Data()) else { throw Failure("cannot create \(tmp).in") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, tmp + ".in", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, tmp + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, tmp + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // The working directory through the shell (posix_spawn_file_actions_addchdir_np is not imported).
        let shArgv = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", cwd] + argv
        let cArgs = shArgv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cArgs.forEach { free($0) }; cEnv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", &actions, nil, cArgs, cEnv)
        guard rc == 0 else { throw Failure("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { throw Failure("waitpid failed for \(argv[0])") }
            if Date() > deadline { kill(pid, SIGKILL) }
            usleep(10_000)
        }
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        let out = String(decoding: FileManager.default.contents(atPath: tmp + ".out") ?? Data(), as: UTF8.self)
        let err = String(decoding: FileManager.default.contents(atPath: tmp + ".err") ?? Data(), as: UTF8.self)
        return RunResult(argv: argv, status: code, out: out, err: err)
    }
}
