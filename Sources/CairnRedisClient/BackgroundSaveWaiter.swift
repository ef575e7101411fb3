#if canImport(Glibc)
import Glibc
#endif

/// Waits until a server has no BGSAVE running, so the RDB file on disk is a
/// finished one (the old plan copied `dump.rdb` right after `BGSAVE`, which
/// returns at once: it got the previous snapshot or nothing).
public enum BackgroundSaveWaiter {
    /// What `INFO persistence` said once no save was running.
    public struct State: Sendable {
        public var lastSaveStatus: String
        public var lastSaveTime: String
        public var aofEnabled: Bool
        public var waitedSeconds: Double
    }

    /// Polls `INFO persistence` every 200 ms until `rdb_bgsave_in_progress:0`.
    public static func wait(connection: RedisConnection, timeoutSeconds: Double) throws -> State {
        var started = timespec()
        clock_gettime(CLOCK_MONOTONIC, &started)
        func elapsed() -> Double {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            return Double(now.tv_sec - started.tv_sec) + Double(now.tv_nsec - started.tv_nsec) / 1e9
        }
        while true {
            let info = try connection.info("persistence")
            guard let running = info["rdb_bgsave_in_progress"] else {
                throw RedisError.protocolError("INFO persistence has no rdb_bgsave_in_progress field")
            }
            if running == "0" {
                return State(lastSaveStatus: info["rdb_last_bgsave_status"] ?? "", lastSaveTime: info["rdb_last_save_time"] ?? "",
                             aofEnabled: info["aof_enabled"] == "1", waitedSeconds: elapsed())
            }
            if elapsed() > timeoutSeconds {
                throw RedisError.timeout("a BGSAVE is still running after \(Int(timeoutSeconds)) s: raise --wait-timeout or try later")
            }
            usleep(200_000)
        }
    }
}
