/// Where a Redis server is and who to log in as, parsed from
/// `redis://[USER@]HOST[:PORT][/DB]` (`rediss://` means TLS).
///
/// A password in the URL is refused: a command line is visible to every user
/// of the machine (`ps`). The password comes from `REDISCLI_AUTH` or a file.
public struct RedisEndpoint: Sendable, Equatable {
    public var host: String
    public var port: UInt16
    public var username: String?
    public var tls: Bool
    /// CA certificates to verify a TLS server with (PEM); the system's when nil.
    public var caFile: String? = nil

    public init(host: String = "127.0.0.1", port: UInt16 = 6379, username: String? = nil, tls: Bool = false) {
        self.host = host; self.port = port; self.username = username; self.tls = tls
    }

    /// Parses a URL; throws `RedisError.invalidURL` with the reason.
    public static func parse(_ url: String) throws -> RedisEndpoint {
        var rest = Substring(url)
        var e = RedisEndpoint()
        if rest.hasPrefix("redis://") { rest = rest.dropFirst(8) } else if rest.hasPrefix("rediss://") {
            rest = rest.dropFirst(9); e.tls = true
        } else {
            throw RedisError.invalidURL("\(url.debugDescription) does not start with redis:// or rediss://")
        }
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            guard db.isEmpty || db == "0" else {
                throw RedisError.invalidURL("a database number in the URL makes no difference: an RDB holds every database")
            }
            rest = rest[..<slash]
        }
        if let at = rest.lastIndex(of: "@") {
            let user = rest[..<at]
            guard !user.contains(":") else {
                throw RedisError.invalidURL("the URL holds a password, which would be visible in the process list: put it in REDISCLI_AUTH or a file given with --redis-password-file")
            }
            e.username = user.isEmpty ? nil : String(user)
            rest = rest[rest.index(after: at)...]
        }
        var hostPart = rest
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw RedisError.invalidURL("unclosed [ in \(url.debugDescription)") }
            e.host = String(rest[rest.index(after: rest.startIndex)..<close])
            hostPart = rest[rest.index(after: close)...]
            if hostPart.hasPrefix(":") {
                guard let p = UInt16(hostPart.dropFirst()), p > 0 else { throw RedisError.invalidURL("bad port in \(url.debugDescription)") }
                e.port = p
            } else if !hostPart.isEmpty { throw RedisError.invalidURL("unexpected \(String(hostPart).debugDescription) after the host") }
            return e
        }
        if let colon = hostPart.lastIndex(of: ":") {
            guard let p = UInt16(hostPart[hostPart.index(after: colon)...]), p > 0 else {
                throw RedisError.invalidURL("bad port in \(url.debugDescription)")
            }
            e.port = p
            hostPart = hostPart[..<colon]
        }
        if !hostPart.isEmpty { e.host = String(hostPart) }
        return e
    }

    /// host:port for messages (never a password).
    public var display: String { (host.contains(":") ? "[\(host)]" : host) + ":\(port)" }
}
