import Foundation

/// Builds an `S3Store` from a repository URL and the process environment.
public enum S3StoreFactory {
    /// Settings from the command line.
    public struct Settings: Sendable {
        public var connections = 8
        public var virtualHost = false
        public var dataStorageClass: String? = nil
        public init() {}
    }

    /// Region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the `s3.REGION.amazonaws.com` host, else us-east-1.
    public static func region(for location: S3Location, environment env: [String: String]) -> String {
        for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] { if let r = env[name], !r.isEmpty { return r } }
        return location.regionFromHost ?? "us-east-1"
    }

    public static func client(url: String, settings: Settings = .init(),
                              environment env: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Client {
        let location = try S3Location(url: url, virtualHost: settings.virtualHost)
        let credentials = try S3Credentials.resolve(environment: env)
        let transport = try transport(connections: settings.connections)
        return S3Client(location: location, credentials: credentials, region: region(for: location, environment: env),
                        transport: transport, connections: settings.connections)
    }

    /// The transport a store uses: libcurl for every request (`CurlTransport`).
    /// - Throws: `LazyLibraryError` when libcurl cannot be loaded.
    public static func transport(connections: Int, timeout: TimeInterval = 60) throws -> any HTTPTransport {
        try CurlTransport(connections: connections, timeout: timeout)
    }

    public static func store(url: String, settings: Settings = .init(),
                             environment env: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Store {
        var options = S3Store.Options()
        options.dataStorageClass = settings.dataStorageClass
        return S3Store(client: try client(url: url, settings: settings, environment: env), options: options)
    }
}
