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
        case .diskFull(let p): return "no space left on the device holding \(p): free space (on a full local repository 'cairn forget … --prune --max-repack 0' still runs, Docs/retention.md) or use another repository"
        case .permissionDenied(let p): return "permission denied for \(p): check the owner and mode of the repository (one shared by several users needs group access: chgrp -R GROUP, chmod -R g+rwX and chmod g+s on its directories, Docs/postgres.md)"
        case .io(let p, let m): return "I/O error on \(p): \(m)"
        case .transient(let m): return "temporary store failure: \(m)"
        }
    }
}
