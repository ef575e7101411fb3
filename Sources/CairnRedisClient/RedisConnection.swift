import CairnRedis
import CairnSystem
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP connection to a Redis server speaking RESP2.
///
/// Blocking on purpose: it runs on its own thread (`ValidatingPipe`) or for a
/// handful of commands, never on the async executor's few threads. Every read
/// has a timeout (`SO_RCVTIMEO`).
public final class RedisConnection {
    private var fd: Int32
    public let endpoint: RedisEndpoint
    private var buffer = [UInt8](repeating: 0, count: 64 << 10)
    private var start = 0, end = 0
    /// Set for `rediss://` / `--tls`: every byte then goes through it.
    private var tlsSession: TLSSession?

    /// Connects (TCP, IPv4 or IPv6) with a timeout; `timeout` also bounds each later read.
    public init(endpoint: RedisEndpoint, timeoutSeconds: Int = 60) throws {
        self.endpoint = endpoint
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard rc == 0, let first = list else {
            throw RedisError.connect("cannot resolve Redis host \(endpoint.host.debugDescription): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var connected: Int32 = -1
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            let s = socket(a.pointee.ai_family, a.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), a.pointee.ai_protocol)
            if s >= 0 {
                Self.setTimeout(s, seconds: timeoutSeconds)
                if connect(s, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { connected = s; break }
                lastError = String(cString: strerror(errno))
                Glibc.close(s)
            } else {
                lastError = String(cString: strerror(errno))
            }
            ai = a.pointee.ai_next
        }
        guard connected >= 0 else {
            throw RedisError.connect("cannot connect to Redis at \(endpoint.display): \(lastError)")
        }
        fd = connected
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if endpoint.tls {
            do { tlsSession = try TLSSession(fd: fd, host: endpoint.host, caFile: endpoint.caFile) } catch {
                Glibc.close(fd); fd = -1
                throw error
            }
        }
    }

    /// Wraps a stream socket that is already connected (Fuzz/ feeds hostile replies through a socket pair).
    init(connectedSocket fd: Int32, endpoint: RedisEndpoint) {
        self.fd = fd
        self.endpoint = endpoint
    }

    deinit {
        tlsSession = nil
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Closes the socket now.
    public func close() {
        tlsSession = nil
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    private static func setTimeout(_ s: Int32, seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Changes the read timeout.
    public func setTimeout(seconds: Int) { Self.setTimeout(fd, seconds: seconds) }

    // MARK: commands

    /// Sends one command as a RESP array of bulk strings.
    public func send(_ args: [[UInt8]]) throws {
        var out = Array("*\(args.count)\r\n".utf8)
        for a in args {
            out += Array("$\(a.count)\r\n".utf8)
            out += a
            out += [13, 10]
        }
        try writeAll(out)
    }

    /// Sends a command and reads its reply.
    public func command(_ args: [String]) throws -> RESPReply {
        try send(args.map { Array($0.utf8) })
        return try readReply()
    }

    /// Sends AUTH without ever putting the password into a message.
    public func authenticate(username: String?, password: [UInt8]) throws {
        var args: [[UInt8]] = [Array("AUTH".utf8)]
        if let username { args.append(Array(username.utf8)) }
        args.append(password)
        try send(args)
        switch try readReply() {
        case .simple: return
        case .error(let m): throw RedisError.authentication(m.hasPrefix("WRONGPASS") || m.hasPrefix("ERR") ? m : "the server said: \(m)")
        default: throw RedisError.protocolError("AUTH answered with something other than OK")
        }
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        do {
            try bytes.withUnsafeBytes { b in
                guard let tlsSession else { return try FileDescriptorIO.sendAll(fd, b) }
                var off = 0
                while off < b.count {
                    let rest = UnsafeRawBufferPointer(rebasing: b[off...])
                    off += try SystemCall.retrying { tlsSession.write(rest.baseAddress!, rest.count) }
                }
            }
        } catch {
            throw RedisError.io("cannot send to Redis at \(endpoint.display): \(error)")
        }
    }

    // MARK: reading

    /// Reads more bytes into the buffer; false at the end of the connection.
    private func fill() throws -> Bool {
        if start > 0 && start == end { start = 0; end = 0 }
        if end == buffer.count {
            if start > 0 {
                let live = end - start
                buffer.withUnsafeMutableBytes { b in b.baseAddress!.copyMemory(from: b.baseAddress! + start, byteCount: live) }
                start = 0; end = live
            } else {
                buffer += [UInt8](repeating: 0, count: buffer.count)
            }
        }
        let n: Int
        do {
            n = try buffer.withUnsafeMutableBytes { b in
                let free = UnsafeMutableRawBufferPointer(rebasing: b[end...])
                guard let tlsSession else { return try FileDescriptorIO.receive(fd, into: free) }
                return try SystemCall.retrying { tlsSession.read(free.baseAddress!, free.count) }
            }
        } catch let e as Errno where e.code == EAGAIN || e.code == EWOULDBLOCK {
            throw RedisError.timeout("the Redis server at \(endpoint.display) sent nothing for too long")
        } catch {
            throw RedisError.io("cannot read from Redis at \(endpoint.display): \(error)")
        }
        end += n
        return n > 0
    }

    /// One line without its CRLF; lines are capped at 64 KiB.
    func readLine() throws -> [UInt8] {
        var scanned = start
        while true {
            while scanned + 1 < end {
                if buffer[scanned] == 13 && buffer[scanned + 1] == 10 {
                    let line = Array(buffer[start..<scanned])
                    start = scanned + 2
                    return line
                }
                scanned += 1
            }
            guard end - start < 64 << 10 else { throw RedisError.protocolError("a reply line longer than 64 KiB") }
            let offset = scanned - start
            guard try fill() else { throw RedisError.io("the Redis server at \(endpoint.display) closed the connection") }
            scanned = start + offset
        }
    }

    /// The deepest nesting of arrays a reply may have (hiredis refuses more than 7 too);
    /// the replies this client reads nest one level at most.
    static let maxReplyDepth = 8
    /// The most elements (all levels together) one reply may have.
    static let maxReplyElements = 1 << 20

    /// Reads one reply (bulk strings are capped at 64 MiB: this client only reads small replies).
    /// A server cannot make it recurse without bound or collect elements forever:
    /// nesting and the total count of elements are capped.
    public func readReply() throws -> RESPReply {
        var elements = 0
        return try readReply(depth: 0, elements: &elements)
    }

    private func readReply(depth: Int, elements: inout Int) throws -> RESPReply {
        let line = try readLine()
        guard let tag = line.first else { throw RedisError.protocolError("an empty line") }
        let rest = String(decoding: line.dropFirst(), as: UTF8.self)
        switch tag {
        case UInt8(ascii: "+"): return .simple(rest)
        case UInt8(ascii: "-"): return .error(rest)
        case UInt8(ascii: ":"):
            guard let v = Int64(rest) else { throw RedisError.protocolError("bad integer \(rest.debugDescription)") }
            return .integer(v)
        case UInt8(ascii: "$"):
            guard let n = Int(rest), n >= -1, n <= 64 << 20 else { throw RedisError.protocolError("bad bulk length \(rest.debugDescription)") }
            if n == -1 { return .bulk(nil) }
            let body = try readExactly(n + 2)
            return .bulk(Array(body.prefix(n)))
        case UInt8(ascii: "*"):
            guard let n = Int(rest), n >= -1, n <= Self.maxReplyElements else { throw RedisError.protocolError("bad array length \(rest.debugDescription)") }
            if n == -1 { return .array(nil) }
            guard depth < Self.maxReplyDepth else {
                throw RedisError.protocolError("a reply with arrays nested more than \(Self.maxReplyDepth) deep")
            }
            elements += n
            guard elements <= Self.maxReplyElements else {
                throw RedisError.protocolError("a reply of more than \(Self.maxReplyElements) elements")
            }
            var items: [RESPReply] = []
            for _ in 0..<n { items.append(try readReply(depth: depth + 1, elements: &elements)) }
            return .array(items)
        default:
            throw RedisError.protocolError("reply starts with byte \(tag)")
        }
    }

    private func readExactly(_ n: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(n)
        while out.count < n {
            if start == end { guard try fill() else { throw RedisError.io("the Redis server at \(endpoint.display) closed the connection") } }
            let take = min(n - out.count, end - start)
            out += buffer[start..<start + take]
            start += take
        }
        return out
    }

    /// Raw payload bytes (after a replication preamble): buffered bytes first, then the socket.
    /// Returns 0 when the server closed the connection.
    func readRaw(into dest: UnsafeMutableRawBufferPointer) throws -> Int {
        if start == end {
            start = 0; end = 0
            guard try fill() else { return 0 }
        }
        let n = min(dest.count, end - start)
        buffer.withUnsafeBytes { b in dest.copyMemory(from: UnsafeRawBufferPointer(rebasing: b[start..<start + n])) }
        start += n
        return n
    }

    /// Skips the newlines a master sends as keep-alives while it prepares an RDB.
    func skipKeepAlives() throws {
        while true {
            if start == end { guard try fill() else { throw RedisError.io("the Redis server at \(endpoint.display) closed the connection before sending the RDB") } }
            if buffer[start] == 10 { start += 1 } else { return }
        }
    }
}

extension RedisConnection {
    /// `INFO section` as a key → value map.
    public func info(_ section: String) throws -> [String: String] {
        let reply = try command(["INFO", section])
        if case .error(let m) = reply { throw RedisError.server(command: "INFO", message: m) }
        guard let text = reply.text else { throw RedisError.protocolError("INFO did not answer with text") }
        var out: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            if let c = line.firstIndex(of: ":") { out[String(line[..<c])] = String(line[line.index(after: c)...]) }
        }
        return out
    }
}
