import Foundation
import XCTest

/// Runs the real `cairn` binary (`CairnBinary.path()`) against a private
/// repository in a temporary directory: `HOME`, the repository, the cache and
/// the passphrase are in its environment, never on its command line.
public struct CairnRunner {
    /// One run's exit status and output.
    public struct Result {
        public let status: Int32
        public let out: String
        public let err: String
        public let signaled: Bool
        public var summary: String { "exit \(status)\(signaled ? " (signal)" : "")\nstdout: \(out.prefix(1500))\nstderr: \(err.prefix(1500))" }
        public func json() throws -> [String: Any] {
            guard let o = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] else { throw RunnerError("not a JSON object: \(summary)") }
            return o
        }
    }

    /// A failed run or an unusable environment, with the output that says why.
    public struct RunnerError: Error, CustomStringConvertible {
        public let description: String
        public init(_ d: String) { description = d }
    }

    public let binary: URL
    public var environment: [String: String]
    public let dir: URL

    /// A runner for the repository `dir/repo` with its cache in `dir/cache`.
    public init(dir: URL, passphrase: String = "redis test passphrase") throws {
        self.dir = dir
        binary = URL(fileURLWithPath: try CairnBinary.path())
        environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": dir.path,
            "CAIRN_REPO": dir.appendingPathComponent("repo").path,
            "CAIRN_CACHE_DIR": dir.appendingPathComponent("cache").path,
            "CAIRN_PASSWORD": passphrase,
        ]
    }

    /// Runs cairn; standard input from `stdinFile` or /dev/null; standard output to `stdoutFile` when given.
    @discardableResult
    public func run(_ args: [String], env: [String: String] = [:], stdinFile: URL? = nil, stdoutFile: URL? = nil) throws -> Result {
        let r = try TestProcess.run(binary.path, args, environment: environment.merging(env) { $1 }, stdin: stdinFile.map { .file($0) } ?? .none,
                                    scratch: dir, stdoutTo: stdoutFile)
        return Result(status: r.status, out: r.out, err: r.err, signaled: r.signaled)
    }

    /// Runs and asserts exit 0 (and throws otherwise, so the test stops there).
    @discardableResult
    public func ok(_ args: [String], env: [String: String] = [:], stdinFile: URL? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let r = try run(args, env: env, stdinFile: stdinFile)
        XCTAssertEqual(r.status, 0, "cairn \(args.joined(separator: " ")): \(r.summary)", file: file, line: line)
        if r.status != 0 { throw RunnerError("cairn \(args.joined(separator: " ")) failed: \(r.summary)") }
        return r
    }

    /// Runs and asserts a clean failure: exit `code`, one `cairn: error:` line, no crash text.
    @discardableResult
    public func fails(_ args: [String], code: Int32 = 1, env: [String: String] = [:], stdinFile: URL? = nil,
                      file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let r = try run(args, env: env, stdinFile: stdinFile)
        XCTAssertFalse(r.signaled, r.summary, file: file, line: line)
        XCTAssertEqual(r.status, code, "cairn \(args.joined(separator: " ")): \(r.summary)", file: file, line: line)
        let lines = r.err.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        XCTAssertEqual(lines.filter { $0.hasPrefix("cairn: error: ") }.count, 1, "expected one error line: \(r.summary)", file: file, line: line)
        for bad in ["Fatal error", "Stack dump", "Backtrace"] { XCTAssertFalse(r.err.contains(bad), r.summary, file: file, line: line) }
        return r
    }

    /// Number of snapshots in the repository (optionally of one name).
    public func snapshotCount(name: String? = nil) throws -> Int {
        let r = try ok(["snapshots", "--json"] + (name.map { ["--name", $0] } ?? []))
        return ((try JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [Any])?.count ?? -1
    }
}

/// A private temporary directory, removed by the caller.
public func makeTempDir(_ label: String) throws -> URL {
    let u = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-\(label)-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}

/// Runs a shell command; returns its status and output (standard output and error together).
@discardableResult
public func shell(_ command: String) throws -> (status: Int32, out: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
