import CairnStorage

/// Turns a repository URL into a store: a plain path, `local:/path` or `s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX]`.
public enum StoreLocator {
    public static func store(for url: String, options: StoreOptions = .init()) throws -> any ObjectStore {
        if url.hasPrefix("local:") { return LocalStore(root: String(url.dropFirst("local:".count))) }
        if url.hasPrefix("s3:") { return try options.s3Store(url: url) }
        if let colon = url.firstIndex(of: ":"), !url.hasPrefix("/"), !url.hasPrefix("."),
           url[..<colon].allSatisfy({ $0.isLetter || $0.isNumber }) && url.distance(from: url.startIndex, to: colon) > 1 {
            throw CairnError.usage("unknown repository scheme in \(url.debugDescription): use a path, local:/path or s3:http(s)://HOST/BUCKET[/PREFIX]")
        }
        guard !url.isEmpty else { throw CairnError.usage("empty repository location") }
        return LocalStore(root: url)
    }
}
