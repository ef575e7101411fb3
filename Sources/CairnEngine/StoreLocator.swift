import CairnStorage

/// Turns a repository URL into a store: a plain path or `local:/path`.
public enum StoreLocator {
    public static func store(for url: String) throws -> any ObjectStore {
        if url.hasPrefix("local:") { return LocalStore(root: String(url.dropFirst("local:".count))) }
        if url.hasPrefix("s3:") {
            throw CairnError.invalidArgument("s3: repositories are not supported by this build yet; use a local path")
        }
        if let colon = url.firstIndex(of: ":"), !url.hasPrefix("/"), !url.hasPrefix("."),
           url[..<colon].allSatisfy({ $0.isLetter || $0.isNumber }) && url.distance(from: url.startIndex, to: colon) > 1 {
            throw CairnError.invalidArgument("unknown repository scheme in \(url.debugDescription): use a path or local:/path")
        }
        guard !url.isEmpty else { throw CairnError.invalidArgument("empty repository location") }
        return LocalStore(root: url)
    }
}
