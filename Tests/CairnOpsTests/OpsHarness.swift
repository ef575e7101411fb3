import CairnTestSupport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A temporary directory with a passphrase file, repositories and the real
/// `cairn` binary; runs cairn with a clean CAIRN_* environment.
final class OpsHarness {
    let dir: String
    let cairn: String
    let passFile: String

    init() throws {
        var template = Array("/tmp/cairn-ops-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw HarnessError("mkdtemp failed") }
        dir = String(cString: p)
        chmod(dir, 0o755)
        cairn = try Self.binary()
        passFile = dir + "/pass"
        try write("pass", "ops test passphrase\n", mode: 0o600)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    @discardableResult
    func write(_ name: String, _ text: String, mode: mode_t = 0o644) throws -> String {
        let path = name.hasPrefix("/") ? name : dir + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, mode)
        return path
    }

    /// Runs cairn with HOME and the cache in the temp dir; `stdin` from a file; as `user` (through runuser) when given.
    @discardableResult
    func run(_ args: [String], env: [String: String] = [:], stdinPath: String? = nil, timeout: Double = 300, user: String? = nil) throws -> Result {
        var e = ProcessInfo.processInfo.environment
        for k in e.keys where k.hasPrefix("CAIRN_") && k != "CAIRN_PG_BIN" { e.removeValue(forKey: k) }
        e["HOME"] = dir
        e["CAIRN_CACHE_DIR"] = dir + "/cache"
        let r = try TestProcess.run(user == nil ? cairn : "/usr/sbin/runuser", user.map { ["-u", $0, "--", cairn] + args } ?? args,
                                    environment: e.merging(env) { $1 }, stdin: stdinPath.map { .file(URL(fileURLWithPath: $0)) } ?? .none,
                                    scratch: URL(fileURLWithPath: dir), directory: URL(fileURLWithPath: dir), timeout: timeout)
        return Result(args: args, status: r.status, out: r.out, err: r.err)
    }

    /// Initialises a repository at dir/NAME with the harness passphrase.
    func initRepository(_ name: String) throws -> String {
        let path = dir + "/" + name
        try run(["init", "--repo", path, "--password-file", passFile]).check("init")
        return path
    }

    struct Result {
        let args: [String]
        let status: Int32
        let out: String
        let err: String
        var summary: String { "cairn \(args.joined(separator: " ")) -> \(status)\nstdout: \(out.suffix(3000))\nstderr: \(err.suffix(3000))" }
        @discardableResult
        func check(_ what: String, _ expected: Int32 = 0) throws -> Result {
            guard status == expected else { throw HarnessError("\(what): expected exit \(expected)\n\(summary)") }
            return self
        }
        func json() throws -> [String: Any] {
            guard let o = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] else { throw HarnessError("not JSON: \(summary)") }
            return o
        }
    }

    static func binary() throws -> String { try CairnBinary.path() }

    /// A program the test needs: skips when absent, fails under CI=true.
    static func require(_ path: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try RequiredProgram.require(path, what, file: file, line: line)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
