import CairnTestSupport
import Foundation
import XCTest

/// Runs the real `cairn` executable that `swift build` put next to the test bundle
/// (the concurrency tests: several processes at once, signals).
enum CairnProcess {
    struct Run { var status: Int32; var out: String; var err: String }

    static func cairnBinary() throws -> String { try CairnTestSupport.CairnBinary.path() }

    /// Starts `cairn args` with `stdin` (a file) and the environment; returns a waiter.
    static func start(_ args: [String], env: [String: String], stdin: String? = nil) throws -> () -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try cairnBinary())
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        p.standardInput = stdin.map { FileHandle(forReadingAtPath: $0)! } ?? FileHandle.nullDevice
        try p.run()
        return {
            let o = out.fileHandleForReading.readDataToEndOfFile()
            let e = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return Run(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
        }
    }

    static func run(_ args: [String], env: [String: String], stdin: String? = nil) throws -> Run { try start(args, env: env, stdin: stdin)() }

    /// Starts `cairn backup --stdin --name NAME` fed by a pipe the test writes to; returns the
    /// wait for its end, its pid and the pipe's writing end.
    static func startPipedBackup(env: [String: String], name: String) throws -> (wait: () -> Run, pid: Int32, feed: FileHandle) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try cairnBinary())
        p.arguments = ["backup", "--stdin", "--name", name]
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let input = Pipe(), out = Pipe(), err = Pipe()
        p.standardInput = input; p.standardOutput = out; p.standardError = err
        try p.run()
        let wait = {
            let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return Run(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
        }
        return (wait, p.processIdentifier, input.fileHandleForWriting)
    }

    /// Seeded bytes (CairnTestSupport.RandomBytes).
    static func bytes(_ n: Int, seed: UInt64) -> [UInt8] { RandomBytes.make(n, seed: seed) }
}
