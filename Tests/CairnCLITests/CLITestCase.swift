import CairnTestSupport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Base class: each test gets its own temp directory with a repository path,
/// a cache directory and a home, and a `cli` that points `cairn` at them.
class CLITestCase: XCTestCase {
    /// The test's private directory, removed after the test.
    var tmp: URL!
    var repo: URL!
    var cache: URL!
    var cli: CLI!
    let password = "correct horse battery staple"

    override func setUpWithError() throws {
        try super.setUpWithError()
        let binary: URL
        do { binary = try CairnBinary.url() } catch { XCTFail("\(error)"); throw error }
        let name = String(describing: type(of: self)) + "-" + (name.split(separator: " ").last.map { String($0.filter { $0.isLetter || $0.isNumber }) } ?? "test")
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-cli-\(name)-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        let scratch = tmp.appendingPathComponent("io")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let home = tmp.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        repo = tmp.appendingPathComponent("repo")
        cache = tmp.appendingPathComponent("cache")
        let env: [String: String] = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": home.path,
            "CAIRN_REPO": repo.path,
            "CAIRN_CACHE_DIR": cache.path,
            "CAIRN_PASSWORD": password,
        ]
        cli = CLI(binary: binary, scratch: scratch, environment: env)
        let dir = tmp!
        addTeardownBlock {
            // Make everything removable (tests chmod 000 things), then remove.
            _ = try? Self.shell("chmod -R u+rwX \(Self.quote(dir.path)) 2>/dev/null; rm -rf \(Self.quote(dir.path))")
        }
    }

    // MARK: running cairn

    /// Runs cairn and asserts exit 0.
    @discardableResult
    func ok(_ args: [String], stdin: Stdin = .none, env: [String: String?] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        let r = try cli.run(args, stdin: stdin, env: env)
        XCTAssertEqual(r.status, 0, r.summary, file: file, line: line)
        XCTAssertFalse(r.signaled, r.summary, file: file, line: line)
        if r.status != 0 { throw CLIError.setup("command failed: \(r.summary)") }
        return r
    }

    /// Runs cairn and asserts it exits with `code` (not by a signal) and prints no stack trace.
    @discardableResult
    func fails(_ args: [String], code: Int32, stdin: Stdin = .none, env: [String: String?] = [:],
               file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        let r = try cli.run(args, stdin: stdin, env: env)
        XCTAssertFalse(r.signaled, "crashed: \(r.summary)", file: file, line: line)
        XCTAssertEqual(r.status, code, r.summary, file: file, line: line)
        assertCleanError(r, file: file, line: line)
        return r
    }

    /// A failure message is short, human, and not a crash report.
    func assertCleanError(_ r: CLIResult, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(r.errLines.isEmpty, "no error message: \(r.summary)", file: file, line: line)
        for bad in ["Fatal error", "Stack dump", "Backtrace", "SIGSEGV", "SIGILL", "Swift runtime failure"] {
            XCTAssertFalse(r.err.contains(bad), "stack trace / crash text in stderr: \(r.summary)", file: file, line: line)
        }
        if let first = r.errLines.first {
            XCTAssertTrue(first.hasPrefix("cairn: error: ") || first.hasPrefix("cairn: warning: "), "unexpected error format: \(r.summary)", file: file, line: line)
        }
    }

    /// Asserts a runtime failure: exit 1, exactly one line on stderr.
    @discardableResult
    func failsOneLine(_ args: [String], stdin: Stdin = .none, env: [String: String?] = [:],
                      file: StaticString = #filePath, line: UInt = #line) throws -> CLIResult {
        let r = try fails(args, code: 1, stdin: stdin, env: env, file: file, line: line)
        XCTAssertEqual(r.errLines.count, 1, "expected a one-line error: \(r.summary)", file: file, line: line)
        return r
    }

    // MARK: repository helpers

    func initRepo(_ extra: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        try ok(["init"] + extra, file: file, line: line)
    }

    /// Backs up with --json and returns the result object.
    func backup(_ args: [String], stdin: Stdin = .none, env: [String: String?] = [:],
                file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let r = try ok(["backup", "--json"] + args, stdin: stdin, env: env, file: file, line: line)
        return try r.jsonObject(file: file, line: line)
    }

    func snapshots(_ extra: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> [[String: Any]] {
        try ok(["snapshots", "--json"] + extra, file: file, line: line).jsonArray(file: file, line: line)
    }

    /// Restores a stream/single-file snapshot to standard output.
    func restoreStdout(_ snapshot: String, name: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> Data {
        var args = ["restore", snapshot, "--stdout"]
        if let name { args += ["--name", name] }
        return try ok(args, file: file, line: line).stdout
    }

    // MARK: files

    /// Where `source` lands under a restore target: snapshots record full paths.
    func restored(_ source: URL, under target: URL) -> URL { URL(fileURLWithPath: target.path + source.path) }

    /// How many directories lead to `dir` from the root ("/tmp/x": 2): the entries a
    /// snapshot of something inside `dir` holds besides it.
    func depth(_ dir: URL) -> Int { dir.path.split(separator: "/").count }

    func makeDir(_ rel: String) throws -> URL {
        let u = tmp.appendingPathComponent(rel)
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }

    func write(_ data: Data, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }

    /// Files under repo/data, largest first.
    func packFiles() throws -> [URL] {
        let data = repo.appendingPathComponent("data")
        var out: [URL] = []
        for sub in try FileManager.default.contentsOfDirectory(atPath: data.path) {
            let d = data.appendingPathComponent(sub)
            for f in try FileManager.default.contentsOfDirectory(atPath: d.path) where f.count == 64 {
                out.append(d.appendingPathComponent(f))
            }
        }
        return out.sorted { Posix.fileSize($0) > Posix.fileSize($1) }
    }

    // MARK: shell

    struct ShellResult { let status: Int32; let out: String; let err: String }

    @discardableResult
    static func shell(_ command: String) throws -> ShellResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        let dir = FileManager.default.temporaryDirectory
        let id = UUID().uuidString
        let o = dir.appendingPathComponent("cairn-sh-\(id).out"), e = dir.appendingPathComponent("cairn-sh-\(id).err")
        _ = FileManager.default.createFile(atPath: o.path, contents: nil)
        _ = FileManager.default.createFile(atPath: e.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: o); try? FileManager.default.removeItem(at: e) }
        let oh = try FileHandle(forWritingTo: o), eh = try FileHandle(forWritingTo: e)
        p.standardOutput = oh
        p.standardError = eh
        p.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try p.run()
        p.waitUntilExit()
        try? oh.close(); try? eh.close()
        return ShellResult(status: p.terminationStatus,
                           out: String(decoding: (try? Data(contentsOf: o)) ?? Data(), as: UTF8.self),
                           err: String(decoding: (try? Data(contentsOf: e)) ?? Data(), as: UTF8.self))
    }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

/// Typed access to JSON fields, failing the test on a missing or mistyped one.
extension Dictionary where Key == String, Value == Any {
    func string(_ k: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        guard let v = self[k] as? String else { XCTFail("field \(k) missing or not a string in \(self)", file: file, line: line); throw CLIError.missingField(k) }
        return v
    }

    func int(_ k: String, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        if let v = self[k] as? Int { return v }
        if let v = self[k] as? NSNumber { return v.intValue }
        XCTFail("field \(k) missing or not an integer in \(self)", file: file, line: line)
        throw CLIError.missingField(k)
    }

    func double(_ k: String, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        if let v = self[k] as? Double { return v }
        if let v = self[k] as? NSNumber { return v.doubleValue }
        if let v = self[k] as? Int { return Double(v) }
        XCTFail("field \(k) missing or not a number in \(self)", file: file, line: line)
        throw CLIError.missingField(k)
    }
}
