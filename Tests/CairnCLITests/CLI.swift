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

/// Where a run's standard input comes from.
enum Stdin {
    case none
    case data(Data)
    case file(URL)
}

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

    /// Starts `cairn args…`; the caller waits or kills. Output goes to files in `scratch`.
    /// With `stdoutTo`, standard output goes to that file and is not read back.
    func start(_ args: [String], stdin: Stdin = .none, env: [String: String?] = [:], stdoutTo: URL? = nil) throws -> RunningCLI {
        let id = UUID().uuidString
        let outURL = stdoutTo ?? scratch.appendingPathComponent("\(id).out"), errURL = scratch.appendingPathComponent("\(id).err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let p = Process()
        if launcher.isEmpty {
            p.executableURL = binary
            p.arguments = args
        } else {
            p.executableURL = URL(fileURLWithPath: launcher[0])
            p.arguments = Array(launcher.dropFirst()) + [binary.path] + args
        }
        var e = environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        p.currentDirectoryURL = scratch
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        p.standardOutput = outHandle
        p.standardError = errHandle
        var inHandle: FileHandle? = nil
        switch stdin {
        case .none:
            p.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        case .data(let d):
            let inURL = scratch.appendingPathComponent("\(id).in")
            try d.write(to: inURL)
            inHandle = try FileHandle(forReadingFrom: inURL)
            p.standardInput = inHandle
        case .file(let u):
            inHandle = try FileHandle(forReadingFrom: u)
            p.standardInput = inHandle
        }
        try p.run()
        try? outHandle.close(); try? errHandle.close(); try? inHandle?.close()
        return RunningCLI(process: p, arguments: args, outURL: outURL, errURL: errURL, captureStdout: stdoutTo == nil)
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
    let process: Process
    let arguments: [String]
    let outURL: URL
    let errURL: URL
    let captureStdout: Bool

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func kill(_ signal: Int32 = SIGKILL) {
        if process.isRunning { sendSignal(process.processIdentifier, signal) }
    }

    func wait(timeout: TimeInterval) -> CLIResult {
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline { timedOut = true; kill(SIGKILL); break }
            usleep(2_000)
        }
        process.waitUntilExit()
        let out = captureStdout ? (try? Data(contentsOf: outURL)) ?? Data() : Data()
        let err = (try? Data(contentsOf: errURL)) ?? Data()
        if captureStdout { try? FileManager.default.removeItem(at: outURL) }
        try? FileManager.default.removeItem(at: errURL)
        return CLIResult(arguments: arguments, status: process.terminationStatus,
                         signaled: process.terminationReason == .uncaughtSignal, timedOut: timedOut,
                         stdout: out, stderr: err)
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
