/// The plaintext of a `locks/` object: who holds a lock on the repository,
/// shared (backups) or exclusive (forget, prune), and when it was last
/// refreshed. A holder rewrites its lock under a new name every few minutes;
/// a lock whose refresh time is too old, or whose process is gone on the
/// same host, is stale (Docs/retention.md, format-spec/v1.md "Locks").
public struct LockRecord: Hashable, Sendable {
    public static let version: UInt8 = 1
    public var exclusive: Bool
    public var host: String
    public var pid: UInt32
    /// Nanoseconds since the Unix epoch, UTC: when the holder first took the lock.
    public var startNanos: Int64
    /// When this object was written (the last refresh).
    public var refreshNanos: Int64
    public var user: String
    /// What the holder is doing ("backup", "prune", ...), for messages.
    public var operation: String

    public init(exclusive: Bool, host: String, pid: UInt32, startNanos: Int64, refreshNanos: Int64, user: String, operation: String) {
        self.exclusive = exclusive; self.host = host; self.pid = pid; self.startNanos = startNanos
        self.refreshNanos = refreshNanos; self.user = user; self.operation = operation
    }

    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 64 + host.utf8.count + user.utf8.count + operation.utf8.count)
        w.u8(Self.version); w.u8(exclusive ? 1 : 0); w.string(host); w.u32(pid)
        w.i64(startNanos); w.i64(refreshNanos); w.string(user); w.string(operation)
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> LockRecord {
        let what = "lock"
        var r = ByteReader(bytes, what: what)
        let v = try r.u8()
        guard v == version else { throw FormatError.unsupportedVersion(what: what, version: Int(v), supported: Int(version)) }
        let x = try r.u8()
        guard x <= 1 else { throw FormatError.invalid(what: what, reason: "bad exclusive flag \(x)") }
        let host = try r.string()
        let pid = try r.u32()
        let start = try r.i64(), refresh = try r.i64()
        let user = try r.string(), op = try r.string()
        try r.expectEnd()
        return LockRecord(exclusive: x == 1, host: host, pid: pid, startNanos: start, refreshNanos: refresh, user: user, operation: op)
    }
}
