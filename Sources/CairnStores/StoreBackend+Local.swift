import CairnStorage

extension StoreBackend {
    /// A directory on a local file system: `local:/path` (a plain path means the same).
    public static let local = StoreBackend(scheme: "local", syntax: "local:/path") { url, _ in
        LocalStore(root: String(url.dropFirst("local:".count)))
    }
}
