import CairnEngine
import CairnSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway redis-server on loopback with persistence off (a drill's loads
/// the RDB it restored; the tests' `RedisServer` starts empty ones with their
/// own settings); `stop()` shuts it down.
public final class TemporaryRedis {
    public let port: Int
    public let cli: String
    private var pid: pid_t = 0
    /// The server's log file.
    public let log: String

    public static func locate(_ name: String, configured: String?) throws -> String {
        var dirs: [String] = []
        if let c = configured {
            if name == "redis-server" { if access(c, X_OK) == 0 { return c } } else { dirs.append((c as NSString).deletingLastPathComponent) }
        }
        dirs += (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"]
        for d in dirs where access(d + "/" + name, X_OK) == 0 { return d + "/" + name }
        throw OpsError.missingProgram("\(name) not found (PATH, /usr/bin); install redis-server or set drill.redis-server")
    }

    /// Starts redis-server with `dir`/`dbfilename` and waits until the RDB is loaded.
    public convenience init(rdb: String, server configured: String?, timeout: Double = 120) throws {
        try self.init(directory: (rdb as NSString).deletingLastPathComponent, settings: ["dbfilename \((rdb as NSString).lastPathComponent)"],
                      server: configured, timeout: timeout)
    }

    /// Starts redis-server on a free loopback port in `directory` (its log there as `redis.log`),
    /// persistence off, with `settings` (redis.conf lines, "name value": a drill's `dbfilename`,
    /// a test's `requirepass` or TLS files), and waits until it answers (an RDB named by
    /// `dbfilename` is loaded by then). The one redis-server launcher: drills and the tests use it.
    public init(directory dir: String, settings: [String] = [], server configured: String? = nil, timeout: Double = 120) throws {
        let server = try Self.locate("redis-server", configured: configured)
        cli = try Self.locate("redis-cli", configured: configured)
        port = FreePort.find()
        log = dir + "/redis.log"
        // A setting on the command line is "--name" and its value as one argument (redis-server quotes it).
        let extra = settings.flatMap { line -> [String] in
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            return ["--" + parts[0]] + parts.dropFirst()
        }
        pid = try ChildRunner.spawn([server, "--bind", "127.0.0.1", "--port", "\(port)", "--dir", dir,
                                     "--save", "", "--appendonly", "no", "--protected-mode", "yes", "--logfile", log] + extra,
                                    environment: ChildEnvironment.build(for: .redis), stdinPath: "/dev/null",
                                    stdoutPath: "/dev/null", stderrPath: "/dev/null")
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if ((try? SystemCall.exitStatusIfEnded(pid)) ?? nil) != nil {
                pid = 0
                let log = FileManager.default.contents(atPath: self.log).map { String(decoding: $0, as: UTF8.self).suffix(300) } ?? ""
                throw OpsError.failed("redis-server exited while loading the RDB: \(log)")
            }
            if answers() { return }
            usleep(100_000)
        }
        stop()
        throw OpsError.failed("redis-server did not load the RDB within \(Int(timeout)) s")
    }

    deinit { stop() }

    /// Whether the server answers PING: PONG, or NOAUTH when it has a password.
    private func answers() -> Bool {
        do {
            let r = try command(["PING"])
            return r == "PONG" || r.hasPrefix("NOAUTH")
        } catch {
            return "\(error)".contains("NOAUTH")
        }
    }

    /// Runs one redis-cli command; its reply (first line).
    public func command(_ args: [String]) throws -> String {
        let r = try ChildRunner.run([cli, "-h", "127.0.0.1", "-p", "\(port)"] + args, purpose: .redis, remove: ["REDISCLI_AUTH"], timeout: 30)
        let out = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard r.status == 0, !out.hasPrefix("ERR"), !out.hasPrefix("LOADING") else { throw OpsError.failed("redis-cli \(args.joined(separator: " ")): \(out.isEmpty ? r.lastErrorLine : out)") }
        return out
    }

    public func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        _ = ChildRunner.wait(pid, timeout: 10)
        pid = 0
    }
}
