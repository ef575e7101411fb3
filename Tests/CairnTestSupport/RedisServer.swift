import CairnOps
import CairnRedisClient
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A real redis-server the test starts on a free loopback port in its own
/// directory, and stops: CairnOps' `TemporaryRedis` (the one redis-server
/// launcher, the drills' too) with the settings the tests rely on. Missing
/// redis-server: the test is skipped, or fails when CI=true (install the
/// Debian package `redis-server`; scripts/setup.sh does).
public final class RedisServer: @unchecked Sendable {
    public let dir: URL
    public let port: UInt16
    private let server: TemporaryRedis
    public let logURL: URL

    /// - Parameter config: extra redis.conf lines (e.g. "requirepass …", "dbfilename x.rdb").
    public init(dir: URL, config: [String] = []) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        self.dir = dir
        do {
            // DEBUG for the tests' forged states; diskless replication without waiting for more replicas;
            // stopped at once, without waiting for a replica (a backup) to catch up.
            server = try TemporaryRedis(directory: dir.path, settings: ["enable-debug-command yes", "repl-diskless-sync-delay 0", "shutdown-on-sigterm now"] + config,
                                        timeout: 20)
        } catch OpsError.missingProgram(let message) {
            throw RequiredProgram.missing(message)
        }
        guard let port = UInt16(exactly: server.port) else { throw CairnRunner.RunnerError("port \(server.port) is no TCP port") }
        self.port = port
        logURL = URL(fileURLWithPath: server.log)
    }

    deinit { stop() }

    public var url: String { "redis://127.0.0.1:\(port)" }

    public func connect(password: String? = nil) throws -> RedisConnection {
        let c = try RedisConnection(endpoint: RedisEndpoint(host: "127.0.0.1", port: port), timeoutSeconds: 30)
        if let password { try c.authenticate(username: nil, password: Array(password.utf8)) }
        return c
    }

    /// Stops the server (persistence is off: nothing is saved).
    public func stop() { server.stop() }

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
