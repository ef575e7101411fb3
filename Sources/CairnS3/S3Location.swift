import Foundation

/// Where a repository lives: `s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX]`.
public struct S3Location: Sendable, Equatable {
    public let scheme: String
    /// Host and, when given, `:port`, as the `Host` header carries it.
    public let hostHeader: String
    public let bucket: String
    /// The key prefix without leading or trailing slashes ("" for the bucket root).
    public let prefix: String
    /// Bucket in the host name (`BUCKET.HOST`) instead of the path.
    public let virtualHost: Bool
    /// From `s3.REGION.amazonaws.com` hosts, else nil.
    public let regionFromHost: String?

    /// Parses a repository URL (with or without the `s3:` scheme prefix).
    public init(url: String, virtualHost: Bool = false) throws {
        let raw = url.hasPrefix("s3:") ? String(url.dropFirst(3)) : url
        let usage = "expected s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX]"
        guard let c = URLComponents(string: raw), let scheme = c.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = c.host, !host.isEmpty else {
            throw S3Error.configuration("bad S3 repository URL \(url.debugDescription): \(usage)")
        }
        guard c.query == nil, c.fragment == nil, c.user == nil, c.password == nil else {
            throw S3Error.configuration("bad S3 repository URL \(url.debugDescription): no query, fragment or credentials in the URL (credentials come from AWS_* variables or ~/.aws/credentials)")
        }
        let parts = c.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let bucket = parts.first else { throw S3Error.configuration("no bucket in S3 repository URL \(url.debugDescription): \(usage)") }
        guard bucket.count >= 3, bucket.count <= 63,
              bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" || $0.isUppercase) }) else {
            throw S3Error.configuration("bad bucket name \(bucket.debugDescription) in \(url.debugDescription): 3-63 letters, digits, '.', '-'")
        }
        guard !parts.contains(".."), !parts.contains(".") else {
            throw S3Error.configuration("bad S3 repository URL \(url.debugDescription): '.' and '..' are not allowed in the prefix")
        }
        self.scheme = scheme
        self.hostHeader = c.port.map { "\(host):\($0)" } ?? host
        self.bucket = bucket
        self.prefix = parts.dropFirst().joined(separator: "/")
        self.virtualHost = virtualHost
        let labels = host.lowercased().split(separator: ".")
        if labels.count == 4, labels[0] == "s3", labels[2] == "amazonaws", labels[3] == "com" {
            regionFromHost = String(labels[1])
        } else if labels.count == 5, labels[0] == "s3", labels[3] == "amazonaws" {
            regionFromHost = String(labels[1])
        } else {
            regionFromHost = nil
        }
    }

    /// The object key of `name` under the prefix.
    public func key(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix)/\(name)" }

    /// Host header and raw path for an object key (nil: the bucket itself).
    public func target(key: String?) -> (host: String, path: String) {
        if virtualHost { return ("\(bucket).\(hostHeader)", "/" + (key ?? "")) }
        return (hostHeader, "/\(bucket)" + (key.map { "/\($0)" } ?? ""))
    }

    /// For messages: `s3:http://host/bucket/prefix`.
    public var display: String { "s3:\(scheme)://\(hostHeader)/\(bucket)\(prefix.isEmpty ? "" : "/" + prefix)" }
}
