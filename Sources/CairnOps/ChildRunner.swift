import CairnStorage
import CairnEngine
import CairnSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A finished child process.
public struct ChildResult: Sendable {
    public var argv: [String]
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var seconds: Double

    public init(argv: [String], status: Int32, stdout: String = "", stderr: String = "", seconds: Double = 0) {
        self.argv = argv; self.status = status; self.stdout = stdout; self.stderr = stderr; self.seconds = seconds
    }

    /// The last non-empty line of standard error (the one-line reason of a failed cairn command).
    public var lastErrorLine: String {
        let lines = stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        let errors = lines.filter { $0.hasPrefix("cairn: error: ") }
        let line = errors.last ?? lines.last ?? "exit status \(status)"
        return line.replacingOccurrences(of: "cairn: error: ", with: "")
    }
}

/// Runs programs with output captured in temporary files (no pipe deadlocks),
/// secrets passed through the environment only, and only to the child that
/// needs them (`ChildEnvironment`).
public enum ChildRunner {
    /// Runs `argv` with ours (without what `purpose` may not see) and then `environment`
    /// (`remove`: variables dropped too), standard input from `stdinPath` or /dev/null,
    /// standard output to `stdoutPath` when given.
    public static func run(_ argv: [String], purpose: ChildEnvironment.Purpose = .tool, environment: [String: String] = [:], remove: [String] = [],
                           stdinPath: String? = nil, stdoutPath: String? = nil, cwd: String? = nil,
                           timeout: Double? = nil) throws -> ChildResult {
        guard argv.first != nil else { throw OpsError.failed("nothing to run") }
        // posix_spawn + waitpid rather than Foundation.Process: a child whose grandchild
        // daemonises (pg_ctl start) must still be reaped reliably.
        let full = cwd.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0] + argv } ?? argv
        var env = ChildEnvironment.build(for: purpose)
        for k in remove { env.removeValue(forKey: k) }
        env.merge(environment) { $1 }
        let tmp = NSTemporaryDirectory() + "cairn-ops-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let outPath = stdoutPath ?? tmp + ".out", errPath = tmp + ".err"
        defer {
            if stdoutPath == nil { unlink(outPath) }
            unlink(errPath)
        }
        let start = Date()
        let undoOut = stdoutPath == nil ? Interruption.shared.register("temporary output", .unlink(outPath)) : nil
        let undoErr = Interruption.shared.register("temporary output", .unlink(errPath))
        defer { undoOut.map { Interruption.shared.unregister($0) }; Interruption.shared.unregister(undoErr) }
        let pid = try spawn(full, environment: env, stdinPath: stdinPath ?? "/dev/null", stdoutPath: outPath, stderrPath: errPath)
        let undoChild = Interruption.shared.register("child process", .forwardSignal(pid))
        let status = wait(pid, timeout: timeout)
        Interruption.shared.unregister(undoChild)
        let out = stdoutPath == nil ? (FileManager.default.contents(atPath: outPath).map { String(decoding: $0, as: UTF8.self) } ?? "") : ""
        let err = FileManager.default.contents(atPath: errPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return ChildResult(argv: argv, status: status, stdout: out, stderr: err, seconds: Date().timeIntervalSince(start))
    }

    /// Starts `argv` with exactly `environment`, standard streams redirected to files; returns its pid.
    public static func spawn(_ argv: [String], environment: [String: String], stdinPath: String, stdoutPath: String, stderrPath: String) throws -> pid_t {
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fa, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&fa, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        do {
            return try ProcessSpawn.spawn(argv, environment: environment, fileActions: &fa, defaultSignals: [SIGPIPE])
        } catch {
            throw OpsError.failed("cannot start \(argv.first ?? ""): \(error)")
        }
    }

    /// Waits for `pid` (killing it after `timeout` seconds); its exit status, 128+signal when killed.
    public static func wait(_ pid: pid_t, timeout: Double? = nil) -> Int32 {
        var status: Int32 = 0
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        var killedAt: Date? = nil
        while true {
            do {
                if let ended = try SystemCall.exitStatusIfEnded(pid) { status = ended; break }
            } catch {
                return 127
            }
            if let deadline, Date() > deadline {
                if killedAt == nil { kill(pid, SIGTERM); killedAt = Date() }
                else if let k = killedAt, Date().timeIntervalSince(k) > 3 { kill(pid, SIGKILL) }
            }
            usleep(5_000)
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// The absolute path of the running executable.
    public static var selfExecutable: String {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        let a = CommandLine.arguments.first ?? "cairn"
        return a.hasPrefix("/") ? a : FileManager.default.currentDirectoryPath + "/" + a
    }
}
