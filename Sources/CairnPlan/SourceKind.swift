/// What a source backs up: the `kind` of a `[source.NAME]` table. The plan layer knows no kind
/// by name: each is declared by its source adapter (`SourceDeclaration`, gathered by CairnOps'
/// `SourceRegistry` and handed to `PlanDecoder` in `PlanCapabilities`).
public struct SourceKind: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public var description: String { rawValue }
}
