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

    /// The last non-empty line of standard error (the one-line reason of a failed cairn command).
    public var lastErrorLine: String {
        let lines = stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        let errors = lines.filter { $0.hasPrefix("cairn: error: ") }
        let line = errors.last ?? lines.last ?? "exit status \(status)"
        return line.replacingOccurrences(of: "cairn: error: ", with: "")
    }
}

/// Runs programs with output captured in temporary files (no pipe deadlocks),
/// secrets passed through the environment only.
public enum ChildRunner {
    /// Runs `argv` with `environment` merged over ours (`remove`: variables dropped), standard input
    /// from `stdinPath` or /dev/null, standard output to `stdoutPath` when given.
    public static func run(_ argv: [String], environment: [String: String] = [:], remove: [String] = [],
                           stdinPath: String? = nil, stdoutPath: String? = nil, cwd: String? = nil,
                           timeout: Double? = nil) throws -> ChildResult {
        guard let program = argv.first else { throw OpsError.failed("nothing to run") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = Array(argv.dropFirst())
        var env = ProcessInfo.processInfo.environment
        for k in remove { env.removeValue(forKey: k) }
        p.environment = env.merging(environment) { $1 }
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let tmp = NSTemporaryDirectory() + "cairn-ops-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let outPath = stdoutPath ?? tmp + ".out", errPath = tmp + ".err"
        FileManager.default.createFile(atPath: outPath, contents: nil, attributes: [.posixPermissions: 0o600])
        FileManager.default.createFile(atPath: errPath, contents: nil, attributes: [.posixPermissions: 0o600])
        defer {
            if stdoutPath == nil { unlink(outPath) }
            unlink(errPath)
        }
        guard let outH = FileHandle(forWritingAtPath: outPath), let errH = FileHandle(forWritingAtPath: errPath),
              let inH = FileHandle(forReadingAtPath: stdinPath ?? "/dev/null") else {
            throw OpsError.failed("cannot set up the output files of \(program)")
        }
        p.standardOutput = outH
        p.standardError = errH
        p.standardInput = inH
        let start = Date()
        do { try p.run() } catch {
            throw OpsError.failed("cannot start \(program): \(error.localizedDescription)")
        }
        if let timeout {
            let deadline = Date().addingTimeInterval(timeout)
            while p.isRunning && Date() < deadline { usleep(20_000) }
            if p.isRunning { p.terminate(); usleep(500_000); if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        }
        p.waitUntilExit()
        try? outH.close(); try? errH.close(); try? inH.close()
        let out = stdoutPath == nil ? (FileManager.default.contents(atPath: outPath).map { String(decoding: $0, as: UTF8.self) } ?? "") : ""
        let err = FileManager.default.contents(atPath: errPath).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
        return ChildResult(argv: argv, status: status, stdout: out, stderr: err, seconds: Date().timeIntervalSince(start))
    }

    /// The absolute path of the running executable.
    public static var selfExecutable: String {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        let a = CommandLine.arguments.first ?? "cairn"
        return a.hasPrefix("/") ? a : FileManager.default.currentDirectoryPath + "/" + a
    }
}
