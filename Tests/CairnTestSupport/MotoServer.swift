import CairnOps
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A real S3-compatible server (moto, from PyPI) on a free loopback port,
/// started by the tests and stopped after them (one per test process; run_moto.py beside this file). Where `CI=true` a missing
/// moto fails the tests instead of skipping them.
public final class MotoServer: @unchecked Sendable {
    public let process: Process
    public let port: Int
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Test credentials: they go to child processes through the environment only.
    public static let environment = ["AWS_ACCESS_KEY_ID": "AKIDCAIRNTEST", "AWS_SECRET_ACCESS_KEY": "cairn-test-secret-key",
                              "AWS_REGION": "us-east-1"]

    private init(process: Process, port: Int) { self.process = process; self.port = port }

    /// One server for the whole test process.
    nonisolated(unsafe) private static var shared: Result<MotoServer, Error>?
    private static let lock = NSLock()

    public static func start() throws -> MotoServer {
        lock.lock(); defer { lock.unlock() }
        if let shared { return try shared.get() }
        let r = Result { try launch() }
        shared = r
        if case .success(let s) = r { atexit { MotoServer.stopShared() }; _ = s }
        return try r.get()
    }

    public static func stopShared() {
        if case .success(let s)? = shared { stopProcess(s.process) }
    }

    /// SIGTERM, then SIGKILL after 5 s. (Process.waitUntilExit can hang when
    /// called off the thread that started the process, so this polls.)
    public static func stopProcess(_ p: Process) {
        guard p.isRunning else { return }
        p.terminate()
        for _ in 0..<50 where p.isRunning { usleep(100_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
    }

    /// Throws XCTSkip when moto is not installed, unless CI=true (then a failure).
    public static func unavailable(_ why: String) -> Error {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            return NSError(domain: "MotoServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "CI=true and \(why); run scripts/setup.sh (pip install 'moto[server]')"])
        }
        return XCTSkip("\(why); pip install 'moto[server]' to run the S3 tests")
    }

    private static func launch() throws -> MotoServer {
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import moto.server, flask_cors"]
        check.standardOutput = FileHandle.nullDevice; check.standardError = FileHandle.nullDevice
        try check.run(); check.waitUntilExit()
        guard check.terminationStatus == 0 else { throw unavailable("moto[server] is not importable by python3") }
        for _ in 0..<5 {
            let port = try freePort()
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("run_moto.py").path
            p.arguments = ["python3", script, "-H", "127.0.0.1", "-p", String(port)]
            var env = ProcessInfo.processInfo.environment
            env["PYTHONUNBUFFERED"] = "1"
            p.environment = env
            p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
            try p.run()
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline && p.isRunning {
                if canConnect(port) { return MotoServer(process: p, port: port) }
                usleep(100_000)
            }
            stopProcess(p)
        }
        throw unavailable("moto server did not start")
    }

    /// A free loopback port (CairnOps' `FreePort`, which the temporary servers use).
    static func freePort() throws -> Int { FreePort.find() }

    public static func canConnect(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
