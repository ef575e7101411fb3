import CairnSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One `cairn run` at a time: an exclusive `flock` on a file in the cache
/// directory (released by the kernel when the process dies, so it is never stale).
public final class RunLock {
    private let fd: Int32
    public let path: String

    /// Takes the lock, waiting up to `wait` seconds; throws `OpsError.busy` naming the holder.
    public init(path: String, wait: Double) throws {
        self.path = path
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw OpsError.failed("cannot open the run lock \(path): \(String(cString: strerror(errno)))") }
        let deadline = Date().addingTimeInterval(wait)
        while true {
            let taken: Bool
            do { taken = try SystemCall.lockExclusive(fd, wait: false) } catch {
                close(fd)
                throw OpsError.failed("cannot lock the run lock \(path): \(error)")
            }
            if taken { break }
            guard Date() < deadline else {
                let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                close(fd)
                throw OpsError.busy("another cairn run is in progress (\(holder.isEmpty ? "holder unknown" : holder)); wait for it, or use --wait-lock 1h")
            }
            usleep(200_000)
        }
        ftruncate(fd, 0)
        let me = "pid \(getpid()) since \(ISO8601DateFormatter().string(from: Date()))\n"
        _ = try? Array(me.utf8).withUnsafeBytes { try FileDescriptorIO.writeAll(fd, $0) }
    }

    deinit {
        ftruncate(fd, 0)
        SystemCall.unlock(fd)
        close(fd)
    }
}
