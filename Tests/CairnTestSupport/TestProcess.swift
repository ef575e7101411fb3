import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one way a test runs a child process (the `cairn` binary, or it under a launcher such as
/// `runuser`): standard output and error go to files in a scratch directory (a pipe would stall
/// a child that writes more than its buffer while the test waits), standard input comes from
/// nowhere, bytes, a file or a pipe the test writes to, and a run past its time limit is killed.
/// `CairnRunner`, CairnCLITests' `CLI` and concurrency helpers, CairnS3Tests' runner and
/// CairnOpsTests' harness build on it. (CairnPostgresTests' `Runner` uses posix_spawn instead:
/// Foundation's `Process` waits for descriptors that a daemon started by the child keeps open.)
public enum TestProcess {
    /// Where a run's standard input comes from.
    public enum Input {
        case none
        case data(Data)
        case file(URL)
        /// A pipe the test writes to (and closes) while the child runs.
        case pipe(Pipe)
    }

    /// How a run ended and what it printed.
    public struct Result: Sendable {
        public let status: Int32
        public let signaled: Bool
        public let timedOut: Bool
        public let stdout: Data
        public let stderr: Data
        public var out: String { String(decoding: stdout, as: UTF8.self) }
        public var err: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// A started child; the caller waits for it or kills it.
    public final class Running: @unchecked Sendable {
        public let process: Process
        let outURL: URL
        let errURL: URL
        let captureStdout: Bool

        init(process: Process, outURL: URL, errURL: URL, captureStdout: Bool) {
            self.process = process; self.outURL = outURL; self.errURL = errURL; self.captureStdout = captureStdout
        }

        public var pid: Int32 { process.processIdentifier }
        public var isRunning: Bool { process.isRunning }

        /// Sends `signal` while the child runs.
        public func kill(_ signal: Int32 = SIGKILL) {
            if process.isRunning { _ = Glibc.kill(process.processIdentifier, signal) }
        }

        /// Waits for the end (SIGKILL after `timeout` seconds; nil: no limit) and reads the output.
        public func wait(timeout: TimeInterval? = nil) -> Result {
            let deadline = timeout.map { Date().addingTimeInterval($0) }
            var timedOut = false
            while process.isRunning {
                if let deadline, Date() > deadline { timedOut = true; kill(SIGKILL); break }
                usleep(2_000)
            }
            process.waitUntilExit()
            let out = captureStdout ? (try? Data(contentsOf: outURL)) ?? Data() : Data()
            let err = (try? Data(contentsOf: errURL)) ?? Data()
            if captureStdout { try? FileManager.default.removeItem(at: outURL) }
            try? FileManager.default.removeItem(at: errURL)
            return Result(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
                          timedOut: timedOut, stdout: out, stderr: err)
        }
    }

    /// Starts `executable arguments` with exactly `environment`; its output files go in `scratch`
    /// (standard output to `stdoutTo` instead when given, not read back), its working directory
    /// is `directory` (nil: this process's).
    public static func start(_ executable: String, _ arguments: [String], environment: [String: String], stdin: Input = .none,
                             scratch: URL, directory: URL? = nil, stdoutTo: URL? = nil) throws -> Running {
        let id = UUID().uuidString
        let outURL = stdoutTo ?? scratch.appendingPathComponent("\(id).out"), errURL = scratch.appendingPathComponent("\(id).err")
        guard FileManager.default.createFile(atPath: outURL.path, contents: nil), FileManager.default.createFile(atPath: errURL.path, contents: nil) else {
            throw CairnRunner.RunnerError("cannot create \(outURL.path) or \(errURL.path)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.environment = environment
        if let directory { p.currentDirectoryURL = directory }
        let outHandle = try FileHandle(forWritingTo: outURL), errHandle = try FileHandle(forWritingTo: errURL)
        p.standardOutput = outHandle
        p.standardError = errHandle
        var inHandle: FileHandle? = nil
        switch stdin {
        case .none:
            p.standardInput = FileHandle.nullDevice
        case .data(let d):
            let inURL = scratch.appendingPathComponent("\(id).in")
            try d.write(to: inURL)
            inHandle = try FileHandle(forReadingFrom: inURL)
            p.standardInput = inHandle
        case .file(let u):
            inHandle = try FileHandle(forReadingFrom: u)
            p.standardInput = inHandle
        case .pipe(let pipe):
            p.standardInput = pipe
        }
        try p.run()
        try? outHandle.close(); try? errHandle.close(); try? inHandle?.close()
        return Running(process: p, outURL: outURL, errURL: errURL, captureStdout: stdoutTo == nil)
    }

    /// `start`, then `wait(timeout:)`.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String], stdin: Input = .none,
                           scratch: URL, directory: URL? = nil, stdoutTo: URL? = nil, timeout: TimeInterval? = nil) throws -> Result {
        try start(executable, arguments, environment: environment, stdin: stdin, scratch: scratch, directory: directory, stdoutTo: stdoutTo)
            .wait(timeout: timeout)
    }
}
