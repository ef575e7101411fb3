import CairnOps
import CairnRedisClient
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A real redis-server the test starts on a free loopback port in its own
/// directory, and stops. Missing redis-server: the test is skipped, or fails
/// when CI=true (install the Debian package `redis-server`; scripts/setup.sh does).
public final class RedisServer: @unchecked Sendable {
    public let dir: URL
    public let port: UInt16
    private let process: Process
    public let logURL: URL

    /// - Parameter config: extra redis.conf lines (e.g. "requirepass …", "dbfilename x.rdb").
    public init(dir: URL, config: [String] = []) throws {
        guard let binary = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw RequiredProgram.missing("redis-server is not installed (apt-get install redis-server, or scripts/setup.sh)")
        }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        self.dir = dir
        port = try Self.freePort()
        logURL = dir.appendingPathComponent("redis.log")
        let conf = [
            "port \(port)", "bind 127.0.0.1", "dir \(dir.path)", "save \"\"", "appendonly no",
            "logfile \(logURL.path)", "enable-debug-command yes", "repl-diskless-sync-delay 0",
            "protected-mode yes", "daemonize no",
        ] + config
        let confURL = dir.appendingPathComponent("redis.conf")
        try conf.joined(separator: "\n").appending("\n").write(to: confURL, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [confURL.path]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        // Ready when PING answers (or LOADING ends).
        let deadline = Date().addingTimeInterval(20)
        while true {
            if let c = try? connect(), let r = try? c.command(["PING"]) {
                if case .simple = r { return }
                if case .error(let m) = r, m.hasPrefix("NOAUTH") { return }
            }
            guard process.isRunning, Date() < deadline else {
                let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
                stop()
                throw CairnRunner.RunnerError("redis-server did not start on port \(port): \(log.suffix(800))")
            }
            usleep(50_000)
        }
    }

    deinit { stop() }

    public var url: String { "redis://127.0.0.1:\(port)" }

    public func connect(password: String? = nil) throws -> RedisConnection {
        let c = try RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: port), timeoutSeconds: 30)
        if let password { try c.authenticate(username: nil, password: Array(password.utf8)) }
        return c
    }

    /// Stops the server (SIGTERM, then SIGKILL) without saving.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    public var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// A free loopback port (CairnOps' `FreePort`, which the temporary servers use).
    public static func freePort() throws -> UInt16 {
        guard let port = UInt16(exactly: FreePort.find()) else { throw CairnRunner.RunnerError("no free loopback port") }
        return port
    }
}

extension RedisConnection {
    /// Sends many commands, then reads all replies (a pipeline); fails on an error reply.
    public func pipeline(_ commands: [[String]]) throws {
        for batch in stride(from: 0, to: commands.count, by: 1000) {
            let part = commands[batch..<min(batch + 1000, commands.count)]
            for c in part { try send(c.map { Array($0.utf8) }) }
            for c in part {
                if case .error(let m) = try readReply() { throw CairnRunner.RunnerError("\(c.first ?? "") failed: \(m)") }
            }
        }
    }

    public func integer(_ args: [String]) throws -> Int64 {
        guard case .integer(let n) = try command(args) else { throw CairnRunner.RunnerError("\(args) did not answer an integer") }
        return n
    }

    public func string(_ args: [String]) throws -> String {
        guard let s = try command(args).text else { throw CairnRunner.RunnerError("\(args) did not answer text") }
        return s
    }
}
