import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A private temporary directory for a drill, removed when done.
public final class ScratchDirectory {
    public let path: String

    public init(under base: String?) throws {
        let root = base ?? NSTemporaryDirectory()
        var template = Array((root.hasSuffix("/") ? root : root + "/").appending("cairn-drill-XXXXXX").utf8CString)
        guard let p = mkdtemp(&template) else {
            throw OpsError.failed("cannot create a scratch directory in \(root): \(String(cString: strerror(errno)))")
        }
        path = String(cString: p)
        chmod(path, 0o755)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Finds a free TCP port on loopback.
public enum FreePort {
    public static func find() -> Int {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        let p = Int(UInt16(bigEndian: addr.sin_port))
        return p == 0 ? 40000 + Int(getpid() % 20000) : p
    }
}
