import CairnSystem
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Names of temporary files that say who wrote them, so that the next writer
/// can tell a killed writer's leftovers from a live writer's work without
/// waiting for them to age: `PREFIX~HOST.PID.START~RANDOM`, where HOST is a
/// hash of the host name, PID the writer's process id and START the
/// process's start time (clock ticks since boot, from /proc), which tells a
/// reused pid from the original writer.
public enum TemporaryFileName {
    /// This process's tag: `HOST.PID.START`.
    public static let ownTag: String = tag(host: hostHash(), pid: getpid(), start: startTime(of: getpid()) ?? 0)

    static func tag(host: String, pid: pid_t, start: UInt64) -> String { "\(host).\(pid).\(start)" }

    /// A fresh temporary name for `prefix` (no "/"; "~" is replaced).
    public static func make(prefix: String) -> String {
        let clean = String(prefix.map { $0 == "~" ? "-" : $0 })
        return "\(clean)~\(ownTag)~\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
    }

    /// True when `name` was written by a process of this host that is gone
    /// (no such pid, or a pid now used by a process started at another time).
    /// Files of other hosts and of live writers, and names in another
    /// format, are never provably stale.
    public static func writerIsGone(_ name: String) -> Bool {
        let parts = name.split(separator: "~", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return false }
        let tag = parts[1].split(separator: ".")
        guard tag.count == 3, String(tag[0]) == hostHash(), let pid = pid_t(tag[1]), pid > 0, let start = UInt64(tag[2]) else { return false }
        if pid == getpid() { return false }
        guard let now = startTime(of: pid) else { return kill(pid, 0) != 0 && errno == ESRCH }
        return now != start
    }

    /// 8 hex digits of a 64-bit FNV-1a hash of the host name.
    static func hostHash() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, 255)
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in buf.prefix(while: { $0 != 0 }) { h = (h ^ UInt64(UInt8(bitPattern: b))) &* 0x100_0000_01b3 }
        let s = String(h >> 32, radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }

    /// Field 22 of /proc/PID/stat (start time in clock ticks since boot);
    /// nil when the process does not exist (or has been reaped), or is a zombie.
    static func startTime(of pid: pid_t) -> UInt64? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 1024)
        guard let n = try? buf.withUnsafeMutableBytes({ try FileDescriptorIO.readFull(fd, into: $0) }), n > 0 else { return nil }
        let line = buf[0..<n]
        // The command name (field 2) may hold spaces and parentheses: fields restart after the last ')'.
        guard let close = line.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = line[(close + 1)...].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3 (state), so field 22 is fields[19].
        guard fields.count > 19 else { return nil }
        if fields[0].first == UInt8(ascii: "Z") || fields[0].first == UInt8(ascii: "X") { return nil }
        return UInt64(String(decoding: fields[19], as: UTF8.self))
    }
}
