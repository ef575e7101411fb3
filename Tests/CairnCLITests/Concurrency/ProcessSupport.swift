import CairnTestSupport
import Foundation
import XCTest

/// Runs the real `cairn` executable that `swift build` put next to the test bundle
/// (the concurrency tests: several processes at once, signals), through `TestProcess`.
enum CairnProcess {
    struct Run { var status: Int32; var out: String; var err: String }

    static func cairnBinary() throws -> String { try CairnTestSupport.CairnBinary.path() }

    /// Starts `cairn args` with `stdin` (a file) and the environment; returns a waiter.
    static func start(_ args: [String], env: [String: String], stdin: String? = nil) throws -> () -> Run {
        let p = try TestProcess.start(try cairnBinary(), args, environment: ProcessInfo.processInfo.environment.merging(env) { $1 },
                                      stdin: stdin.map { .file(URL(fileURLWithPath: $0)) } ?? .none, scratch: FileManager.default.temporaryDirectory)
        return { finished(p.wait()) }
    }

    static func run(_ args: [String], env: [String: String], stdin: String? = nil) throws -> Run { try start(args, env: env, stdin: stdin)() }

    /// Starts `cairn backup --stdin --name NAME` fed by a pipe the test writes to; returns the
    /// wait for its end, its pid and the pipe's writing end.
    static func startPipedBackup(env: [String: String], name: String) throws -> (wait: () -> Run, pid: Int32, feed: FileHandle) {
        let input = Pipe()
        let p = try TestProcess.start(try cairnBinary(), ["backup", "--stdin", "--name", name], environment: ProcessInfo.processInfo.environment.merging(env) { $1 },
                                      stdin: .pipe(input), scratch: FileManager.default.temporaryDirectory)
        return ({ finished(p.wait()) }, p.pid, input.fileHandleForWriting)
    }

    private static func finished(_ r: TestProcess.Result) -> Run { Run(status: r.status, out: r.out, err: r.err) }

    /// Seeded bytes (CairnTestSupport.RandomBytes).
    static func bytes(_ n: Int, seed: UInt64) -> [UInt8] { RandomBytes.make(n, seed: seed) }
}
