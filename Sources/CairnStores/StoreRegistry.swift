import CairnStorage

/// The one place repository URLs become stores: each backend answers to its
/// scheme, and a URL without one is a local path. The CLI wires every store
/// through `StoreRegistry.standard`; adding a backend adds one line there.
public struct StoreRegistry: Sendable {
    public let backends: [StoreBackend]

    public init(_ backends: [StoreBackend]) { self.backends = backends }

    /// Every backend Cairn ships.
    public static let standard = StoreRegistry([
        .local,
        .s3,
    ])

    /// The store at `url`: `SCHEME:...` for a registered scheme, else a local path.
    public func store(for url: String, options: StoreOptions = .init()) throws -> any ObjectStore {
        if let backend = try backend(for: url) { return try backend.open(url, options) }
        return LocalStore(root: url)
    }

    /// Creates what a new repository at `url` needs before its first write (an S3 bucket, with
    /// Object Lock enabled when `objectLock`); nothing for a local path.
    public func prepareNewRepository(url: String, options: StoreOptions = .init(), objectLock: Bool = false) async throws {
        try await backend(for: url)?.prepare(url, options, objectLock)
    }

    /// The backend named by `url`'s scheme; nil for a plain path. A word of two or more letters
    /// and digits before a colon is a scheme (`C:` and `./a:b` are paths).
    func backend(for url: String) throws -> StoreBackend? {
        guard !url.isEmpty else { throw StoreLocationError.badLocation("empty repository location") }
        guard let colon = url.firstIndex(of: ":") else { return nil }
        let scheme = url[..<colon]
        if let backend = backends.first(where: { $0.scheme == scheme }) { return backend }
        if !url.hasPrefix("/"), !url.hasPrefix("."), scheme.count > 1, scheme.allSatisfy({ $0.isLetter || $0.isNumber }) {
            let forms = ["a path"] + backends.map(\.syntax)
            let list = forms.count > 1 ? forms.dropLast().joined(separator: ", ") + " or " + forms[forms.count - 1] : forms[0]
            throw StoreLocationError.badLocation("unknown repository scheme in \(url.debugDescription): use \(list)")
        }
        return nil
    }
}
