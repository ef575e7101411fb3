/// Errors talking to a Redis server, each one line an operator can act on.
/// None ever includes the password.
public enum RedisError: Error, Sendable, CustomStringConvertible {
    case invalidURL(String)
    case connect(String)
    case io(String)
    case protocolError(String)
    /// The server answered a command with an error reply.
    case server(command: String, message: String)
    case authentication(String)
    case timeout(String)
    case unsupported(String)

    public var description: String {
        switch self {
        case .invalidURL(let m): return "bad Redis URL: \(m)"
        case .connect(let m): return m
        case .io(let m): return m
        case .protocolError(let m): return "unexpected reply from the Redis server: \(m)"
        case .server(let c, let m): return "the Redis server refused \(c): \(m)"
        case .authentication(let m): return "Redis authentication failed: \(m)"
        case .timeout(let m): return m
        case .unsupported(let m): return m
        }
    }
}
