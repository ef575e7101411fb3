import Foundation
import XCTest

/// Runs the real `cairn` executable that `swift build` put next to the test bundle.
enum CairnProcess {
    struct Run { var status: Int32; var out: String; var err: String }

    static func cairnBinary() throws -> String {
        if let e = ProcessInfo.processInfo.environment["CAIRN_BINARY"], !e.isEmpty { return e }
        var candidates: [URL] = []
        for arg in ProcessInfo.processInfo.arguments {
            var u = URL(fileURLWithPath: arg).standardizedFileURL
            for _ in 0..<4 {
                if u.pathExtension == "xctest" { candidates.append(u.deletingLastPathComponent()); break }
                u = u.deletingLastPathComponent()
            }
            candidates.append(URL(fileURLWithPath: arg).deletingLastPathComponent())
        }
        for b in Bundle.allBundles where b.bundlePath.hasSuffix(".xctest") { candidates.append(b.bundleURL.deletingLastPathComponent()) }
        for d in candidates where FileManager.default.isExecutableFile(atPath: d.appendingPathComponent("cairn").path) {
            return d.appendingPathComponent("cairn").path
        }
        throw XCTSkip("cannot find the cairn executable next to the test bundle; set CAIRN_BINARY")
    }

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

    /// SplitMix64 bytes.
    static func bytes(_ n: Int, seed: UInt64) -> [UInt8] {
        var s = seed, out: [UInt8] = []
        out.reserveCapacity(n + 8)
        while out.count < n {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9; z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB; z ^= z >> 31
            withUnsafeBytes(of: z.littleEndian) { out.append(contentsOf: $0) }
        }
        return Array(out.prefix(n))
    }

}
