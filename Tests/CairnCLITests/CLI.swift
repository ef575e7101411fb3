import CairnTestSupport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a finished `cairn` run produced.
struct CLIResult {
    let arguments: [String]
    let status: Int32
    /// True when the process ended by a signal (`status` is then the signal number).
    let signaled: Bool
    let timedOut: Bool
    let stdout: Data
    let stderr: Data

    var out: String { String(decoding: stdout, as: UTF8.self) }
    var err: String { String(decoding: stderr, as: UTF8.self) }
    /// Non-empty lines of standard error.
    var errLines: [String] { err.split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty } }

    var summary: String {
        "cairn \(arguments.joined(separator: " ")) -> \(signaled ? "signal" : "exit") \(status)\(timedOut ? " (timed out)" : "")\n"
            + "stdout: \(out.prefix(2000))\nstderr: \(err.prefix(2000))"
    }

    /// Standard output as one JSON object.
    func jsonObject(file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let v = try JSONSerialization.jsonObject(with: stdout)
        guard let o = v as? [String: Any] else {
            XCTFail("expected a JSON object: \(summary)", file: file, line: line)
            throw CLIError.badJSON(summary)
        }
        return o
    }

    /// Standard output as one JSON array of objects.
    func jsonArray(file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        let v = try JSONSerialization.jsonObject(with: stdout)
        guard let a = v as? [[String: Any]] else {
            XCTFail("expected a JSON array of objects: \(summary)", file: file, line: line)
            throw CLIError.badJSON(summary)
        }
        return a
    }

    /// Standard output as JSON lines, one object per line.
    func jsonLines(file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        var out: [[String: Any]] = []
        for l in self.out.split(separator: "\n") where !l.isEmpty {
            guard let o = try JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any] else {
                XCTFail("line is not a JSON object: \(l)", file: file, line: line)
                throw CLIError.badJSON(String(l))
            }
            out.append(o)
        }
        return out
    }
}

enum CLIError: Error, CustomStringConvertible {
    case badJSON(String)
    case missingField(String)
    case setup(String)
    var description: String {
        switch self {
        case .badJSON(let s): return "bad JSON: \(s)"
        case .missingField(let s): return "missing field: \(s)"
        case .setup(let s): return s
        }
    }
}

/// Where a run's standard input comes from (`.none`, `.data`, `.file`, `.pipe`).
typealias Stdin = TestProcess.Input

/// Runs the real `cairn` binary with a controlled environment.
struct CLI {
    let binary: URL
    /// Folder for standard input/output capture files.
    let scratch: URL
    /// The environment every run starts from (no variables inherited except PATH).
    var environment: [String: String]
    /// A command (and arguments) the binary is run under, e.g. `setpriv …`.
    var launcher: [String] = []
    var defaultTimeout: TimeInterval = 180

    /// Starts `cairn args…`; the caller waits or kills. Output goes to files in `scratch`
    /// (`TestProcess`). With `stdoutTo`, standard output goes to that file and is not read back.
    func start(_ args: [String], stdin: Stdin = .none, env: [String: String?] = [:], stdoutTo: URL? = nil) throws -> RunningCLI {
        var e = environment
        for (k, v) in env { e[k] = v }
        let (executable, arguments) = launcher.isEmpty ? (binary.path, args) : (launcher[0], Array(launcher.dropFirst()) + [binary.path] + args)
        let running = try TestProcess.start(executable, arguments, environment: e, stdin: stdin, scratch: scratch, directory: scratch, stdoutTo: stdoutTo)
        return RunningCLI(running: running, arguments: args)
    }

    /// Runs to completion (or kills after `timeout`).
    @discardableResult
    func run(_ args: [String], stdin: Stdin = .none, env: [String: String?] = [:], timeout: TimeInterval? = nil,
             stdoutTo: URL? = nil) throws -> CLIResult {
        let r = try start(args, stdin: stdin, env: env, stdoutTo: stdoutTo)
        return r.wait(timeout: timeout ?? defaultTimeout)
    }
}

/// A started `cairn` process.
struct RunningCLI {
    let running: TestProcess.Running
    let arguments: [String]

    var process: Process { running.process }
    var pid: Int32 { running.pid }
    var isRunning: Bool { running.isRunning }

    func kill(_ signal: Int32 = SIGKILL) { running.kill(signal) }

    func wait(timeout: TimeInterval) -> CLIResult {
        let r = running.wait(timeout: timeout)
        return CLIResult(arguments: arguments, status: r.status, signaled: r.signaled, timedOut: r.timedOut, stdout: r.stdout, stderr: r.stderr)
    }
}

/// kill(2), spelled the same on Linux and macOS.
func sendSignal(_ pid: Int32, _ signal: Int32) {
    #if canImport(Glibc)
    _ = Glibc.kill(pid, signal)
    #else
    _ = Darwin.kill(pid, signal)
    #endif
}
