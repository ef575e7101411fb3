import CairnStorage

/// One kind of store a repository URL can name: the URL scheme it answers to
/// and how it opens (and, for `cairn init`, prepares) a store at such a URL.
/// A new backend is one of these in its own file plus one line in `StoreRegistry.standard`.
public struct StoreBackend: Sendable {
    /// The scheme before the colon (`local`, `s3`).
    public let scheme: String
    /// The URL form shown in error messages (`s3:http(s)://HOST/BUCKET[/PREFIX]`).
    public let syntax: String
    /// The store at the whole URL (scheme included).
    let open: @Sendable (_ url: String, _ options: StoreOptions) throws -> any ObjectStore
    /// Makes the place for a new repository at the whole URL exist (a bucket); nothing where the
    /// store creates it itself on first write.
    let prepare: @Sendable (_ url: String, _ options: StoreOptions, _ objectLock: Bool) async throws -> Void

    public init(scheme: String, syntax: String,
                open: @escaping @Sendable (_ url: String, _ options: StoreOptions) throws -> any ObjectStore,
                prepare: @escaping @Sendable (_ url: String, _ options: StoreOptions, _ objectLock: Bool) async throws -> Void = { _, _, _ in }) {
        self.scheme = scheme
        self.syntax = syntax
        self.open = open
        self.prepare = prepare
    }
}
