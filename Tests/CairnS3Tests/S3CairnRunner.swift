import CairnTestSupport
import Foundation
import XCTest

/// Runs the real `cairn` binary (next to the test bundle, or $CAIRN_BINARY; through
/// CairnTestSupport's `TestProcess`) with moto's S3 credentials, the passphrase and a cache
/// directory in its environment, never on its command line. (CairnTestSupport's `CairnRunner`
/// keeps a repository of its own in a directory; this one names the repository per command.)
struct S3CairnRunner {
    struct Result {
        let status: Int32
        let out: String
        let err: String
    }

    let cacheDir: String
    var environment: [String: String]

    init(cacheDir: String, extra: [String: String] = [:]) {
        self.cacheDir = cacheDir
        var env = ProcessInfo.processInfo.environment
        for k in env.keys where k.hasPrefix("CAIRN_") || k.hasPrefix("AWS_") { env[k] = nil }
        env.merge(MotoServer.environment) { $1 }
        env["CAIRN_PASSWORD"] = "correct horse battery staple"
        env["CAIRN_CACHE_DIR"] = cacheDir
        env.merge(extra) { $1 }
        environment = env
    }

    @discardableResult
    func run(_ args: [String], timeout: TimeInterval = 300) throws -> Result {
        let r = try TestProcess.run(try CairnBinary.path(), args, environment: environment, scratch: FileManager.default.temporaryDirectory, timeout: timeout)
        if r.timedOut { XCTFail("cairn \(args.joined(separator: " ")) timed out") }
        return Result(status: r.status, out: r.out, err: r.err)
    }

    /// Runs and fails the test unless the exit status is `expect`.
    @discardableResult
    func ok(_ args: [String], expect: Int32 = 0, file: StaticString = #filePath, line: UInt = #line) throws -> Result {
        let r = try run(args)
        XCTAssertEqual(r.status, expect, "cairn \(args.joined(separator: " "))\nstdout: \(r.out.prefix(2000))\nstderr: \(r.err.prefix(2000))", file: file, line: line)
        return r
    }
}

/// Trees of test files, compared byte for byte.
enum TestTree {
    static func make(at root: String, files: Int = 30, bigMiB: Int = 12) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(root)/sub/deeper", withIntermediateDirectories: true)
        for i in 0..<files {
            let dir = i % 3 == 0 ? "\(root)/sub" : i % 3 == 1 ? "\(root)/sub/deeper" : root
            let text = (0..<(200 + i * 37)).map { "line \($0) of file \(i)\n" }.joined()
            try Data(text.utf8).write(to: URL(fileURLWithPath: "\(dir)/f\(i).txt"))
        }
        try Data(StoreConformance.bytes(bigMiB << 20, seed: 42)).write(to: URL(fileURLWithPath: "\(root)/big.bin"))
    }

    /// Relative path → contents, for comparing trees.
    static func snapshot(_ root: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: root) else { return out }
        for case let rel as String in e {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: "\(root)/\(rel)", isDirectory: &isDir), !isDir.boolValue {
                out[rel] = fm.contents(atPath: "\(root)/\(rel)")
            }
        }
        return out
    }
}
