/// The namespaces of a repository's objects.
public enum ObjectNamespace: String, Sendable, CaseIterable {
    case config, keys, data, index, snapshots, locks
    /// Forget records: which snapshots `forget` removed (format-spec §20), so a replayed one is recognised.
    case forgotten
}

/// The name of one object in a store. `data` objects are fanned out into 256
/// folders by the first two hex digits of their name so that no folder (or
/// listing page) grows too large.
public struct ObjectKey: Hashable, Sendable, CustomStringConvertible {
    public let namespace: ObjectNamespace
    public let name: String

    public init(_ namespace: ObjectNamespace, _ name: String) { self.namespace = namespace; self.name = name }

    /// The single `config` object.
    public static let config = ObjectKey(.config, "")

    /// The relative path of the object, as used by every backend.
    public var path: String {
        switch namespace {
        case .config: return "config"
        case .data: return "data/\(name.prefix(2))/\(name)"
        default: return "\(namespace.rawValue)/\(name)"
        }
    }

    public var description: String { path }
}
