import CairnEngine
import CairnSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A throwaway redis-server on loopback that loads an RDB file, with
/// persistence off; `stop()` shuts it down.
public final class TemporaryRedis {
    public let port: Int
    public let cli: String
    private var pid: pid_t = 0
    private let log: String

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
    public init(rdb: String, server configured: String?, timeout: Double = 120) throws {
        let server = try Self.locate("redis-server", configured: configured)
        cli = try Self.locate("redis-cli", configured: configured)
        port = FreePort.find()
        let dir = (rdb as NSString).deletingLastPathComponent
        log = dir + "/redis.log"
        pid = try ChildRunner.spawn([server, "--bind", "127.0.0.1", "--port", "\(port)", "--dir", dir, "--dbfilename", (rdb as NSString).lastPathComponent,
                                     "--save", "", "--appendonly", "no", "--protected-mode", "yes", "--logfile", log],
                                    environment: ChildEnvironment.build(for: .redis), stdinPath: "/dev/null",
                                    stdoutPath: "/dev/null", stderrPath: "/dev/null")
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if ((try? SystemCall.exitStatusIfEnded(pid)) ?? nil) != nil {
                pid = 0
                let log = FileManager.default.contents(atPath: self.log).map { String(decoding: $0, as: UTF8.self).suffix(300) } ?? ""
                throw OpsError.failed("redis-server exited while loading the RDB: \(log)")
            }
            if let r = try? command(["PING"]), r == "PONG" { return }
            usleep(100_000)
        }
        stop()
        throw OpsError.failed("redis-server did not load the RDB within \(Int(timeout)) s")
    }

    deinit { stop() }

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
