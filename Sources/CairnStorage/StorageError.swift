/// Errors from a store, with what an operator can do about each.
public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(String)
    case diskFull(String)
    case permissionDenied(String)
    case io(String, String)
    /// A transient failure worth retrying (network, throttling).
    case transient(String)

    public var description: String {
        switch self {
        case .notFound(let p): return "\(p) does not exist in the store"
        case .diskFull(let p): return "no space left on the device holding \(p): free space or use another repository"
        case .permissionDenied(let p): return "permission denied for \(p): check the owner and mode of the repository"
        case .io(let p, let m): return "I/O error on \(p): \(m)"
        case .transient(let m): return "temporary store failure: \(m)"
        }
    }
}
