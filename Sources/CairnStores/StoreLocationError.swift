/// Why a repository URL gives no store.
public enum StoreLocationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The URL itself is wrong (unknown scheme, empty, does not parse): a usage error.
    case badLocation(String)
    /// The URL is well formed but the store cannot be reached with it (no credentials, ...).
    case unusable(String)

    public var description: String {
        switch self {
        case .badLocation(let m), .unusable(let m): return m
        }
    }
}
