import CairnRedis

/// Fetches a fresh RDB from a live server the way `redis-cli --rdb` does:
/// the replication handshake makes the server fork and stream a new RDB.
///
/// Handshake: `AUTH` when a password is given, `REPLCONF capa eof` (lets a
/// server with `repl-diskless-sync yes` stream straight from the fork),
/// `REPLCONF rdb-only 1` (Redis 7: no replication backlog for us), then `SYNC`.
/// The answer is `$<length>\r\n` followed by that many bytes (disk-based), or
/// `$EOF:<40-byte mark>\r\n` followed by the RDB and the mark (diskless).
/// Newlines before it are keep-alives.
public struct ReplicationSource: RDBByteSource {
    /// How the payload is delimited.
    public enum Framing: Sendable, Equatable {
        case length(UInt64)
        case eofMark([UInt8])
    }

    private let connection: RedisConnection
    public let framing: Framing
    private var remaining: UInt64 = 0
    /// Diskless: bytes read but held back because they may be the end mark.
    private var held: [UInt8] = []
    private var done = false
    /// Diskless: where the end mark starts in `held`, once seen.
    private var markAt: Int? = nil
    private var chunk = [UInt8](repeating: 0, count: 64 << 10)

    /// Connects, authenticates and starts the transfer.
    /// - Parameter password: from REDISCLI_AUTH or a file, never from the command line.
    public init(endpoint: RedisEndpoint, password: [UInt8]?, timeoutSeconds: Int = 300) throws {
        connection = try RedisConnection(endpoint: endpoint, timeoutSeconds: timeoutSeconds)
        if let password { try connection.authenticate(username: endpoint.username, password: password) }
        // Optional capabilities: older servers refuse some; that is fine.
        for args in [["REPLCONF", "capa", "eof"], ["REPLCONF", "rdb-only", "1"]] {
            let r = try connection.command(args)
            if case .error(let m) = r, m.hasPrefix("NOAUTH") {
                throw RedisError.authentication("the server requires a password: set REDISCLI_AUTH or use --redis-password-file")
            }
        }
        try connection.send([Array("SYNC".utf8)])
        try connection.skipKeepAlives()
        let line = try connection.readLine()
        let text = String(decoding: line, as: UTF8.self)
        if text.hasPrefix("-") {
            if text.hasPrefix("-NOAUTH") {
                throw RedisError.authentication("the server requires a password: set REDISCLI_AUTH or use --redis-password-file")
            }
            throw RedisError.server(command: "SYNC", message: String(text.dropFirst()))
        }
        guard text.hasPrefix("$") else { throw RedisError.protocolError("SYNC answered \(String(text.prefix(80)).debugDescription) instead of an RDB") }
        if text.hasPrefix("$EOF:") {
            let mark = Array(line.dropFirst(5))
            guard mark.count == 40 else { throw RedisError.protocolError("diskless end mark of \(mark.count) bytes instead of 40") }
            framing = .eofMark(mark)
        } else {
            guard let n = UInt64(text.dropFirst()) else { throw RedisError.protocolError("bad RDB length \(text.debugDescription)") }
            framing = .length(n)
            remaining = n
        }
    }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !done, buffer.count > 0 else { return 0 }
        switch framing {
        case .length:
            if remaining == 0 { done = true; connection.close(); return 0 }
            let want = Int(min(UInt64(buffer.count), remaining))
            let n = try connection.readRaw(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
            guard n > 0 else {
                throw RedisError.io("the Redis server closed the connection with \(remaining) bytes of the RDB still to come")
            }
            remaining -= UInt64(n)
            return n
        case .eofMark(let mark):
            while true {
                if let p = markAt {
                    if p == 0 { done = true; connection.close(); return 0 }
                    let take = min(buffer.count, p)
                    held.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<take])) }
                    held.removeFirst(take)
                    markAt = p - take
                    return take
                }
                // The mark ends the RDB; whatever follows it (a replication stream) is dropped.
                if let p = Self.find(mark, in: held) {
                    held.removeSubrange(p...)
                    markAt = p
                    continue
                }
                // Deliver what cannot be part of a mark still arriving.
                if held.count > mark.count {
                    let n = min(buffer.count, held.count - mark.count)
                    held.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                    held.removeFirst(n)
                    return n
                }
                let n = try chunk.withUnsafeMutableBytes { try connection.readRaw(into: $0) }
                guard n > 0 else { throw RedisError.io("the Redis server closed the connection before the end of the diskless RDB") }
                held += chunk[0..<n]
            }
        }
    }

    private static func find(_ mark: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= mark.count, let first = mark.first else { return nil }
        for i in 0...(bytes.count - mark.count) where bytes[i] == first {
            if bytes[i..<i + mark.count].elementsEqual(mark) { return i }
        }
        return nil
    }
}
