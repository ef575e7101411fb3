import CairnS3
import CairnStorage
import CairnTestSupport
import Foundation
import XCTest

/// Buckets, clients and stores against the test server.
enum S3TestSupport {
    /// A new bucket name per test.
    static func bucketName(_ hint: String = "t") -> String {
        "cairn-\(hint.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(20))-\(UInt32.random(in: 0...UInt32.max))"
    }

    static func client(endpoint: String, bucket: String, prefix: String = "repo", connections: Int = 8,
                       listPageSize: Int = 1000) throws -> S3Client {
        let location = try S3Location(url: "s3:\(endpoint)/\(bucket)/\(prefix)")
        let env = MotoServer.environment
        let creds = try S3Credentials.resolve(environment: env)
        return S3Client(location: location, credentials: creds, region: "us-east-1",
                        transport: try S3StoreFactory.transport(connections: connections, timeout: 10),
                        connections: connections, listPageSize: listPageSize)
    }

    /// A store in a new bucket (created here).
    static func store(endpoint: String, bucket: String, prefix: String = "repo", options: S3Store.Options = .init(),
                      listPageSize: Int = 1000) async throws -> S3Store {
        let c = try client(endpoint: endpoint, bucket: bucket, prefix: prefix, listPageSize: listPageSize)
        if try await !c.bucketExists() { try await c.createBucket() }
        return S3Store(client: c, options: options)
    }

    /// Small multipart settings, so tests exercise parts without 16 MiB objects.
    static var smallParts: S3Store.Options {
        var o = S3Store.Options()
        o.multipartThreshold = 6 << 20
        o.packMultipartThreshold = 6 << 20
        o.partSize = 5 << 20
        o.partRetry = RetryPolicy(attempts: 8, baseDelay: 0.01, maxDelay: 0.2)
        return o
    }
}

/// The conformance suite and seeded bytes moved to CairnTestSupport; this name keeps
/// `StoreConformance.bytes` working in every file of this target without an import.
typealias StoreConformance = CairnTestSupport.StoreConformance
