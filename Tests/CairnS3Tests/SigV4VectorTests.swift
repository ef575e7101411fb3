import CairnS3
import Foundation
import XCTest

/// The signer against AWS's own answers: the Signature Version 4 test suite
/// and the S3 API reference's GET Object example (Vectors/sigv4-test-suite.json).
final class SigV4VectorTests: XCTestCase {
    struct Suite: Decodable {
        struct Credentials: Decodable { let accessKeyID: String; let secretAccessKey: String }
        struct Vector: Decodable {
            let name, method, path, body, authorization: String
            let query, headers: [[String]]
            let accessKeyID, secretAccessKey, service, amzDate: String?
        }
        let credentials: Credentials
        let region, service, amzDate: String
        let vectors: [Vector]
    }

    func testAWSTestSuiteVectors() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "sigv4-test-suite", withExtension: "json", subdirectory: "Vectors"))
        let suite = try JSONDecoder().decode(Suite.self, from: Data(contentsOf: url))
        XCTAssertGreaterThanOrEqual(suite.vectors.count, 8)
        for v in suite.vectors {
            let creds = S3Credentials(accessKeyID: v.accessKeyID ?? suite.credentials.accessKeyID,
                                      secretAccessKey: v.secretAccessKey ?? suite.credentials.secretAccessKey)
            let signer = SigV4Signer(credentials: creds, region: suite.region, service: v.service ?? suite.service)
            let request = SigV4Request(method: v.method, path: v.path,
                                       query: v.query.map { ($0[0], $0[1]) },
                                       headers: v.headers.map { ($0[0], $0[1]) },
                                       payloadHash: SigV4Signer.payloadHash(Array(v.body.utf8)))
            let sig = signer.sign(request, amzDate: v.amzDate ?? suite.amzDate)
            XCTAssertEqual(sig.authorization, v.authorization, v.name)
            XCTAssertFalse(sig.authorization.contains(creds.secretAccessKey))
        }
    }

    func testAmzDate() {
        XCTAssertEqual(SigV4Signer.amzDate(unixSeconds: 1_440_938_160), "20150830T123600Z")
        XCTAssertEqual(SigV4Signer.amzDate(unixSeconds: 0), "19700101T000000Z")
        XCTAssertEqual(SigV4Signer.amzDate(unixSeconds: 951_782_400), "20000229T000000Z")
        XCTAssertEqual(SigV4Signer.amzDate(unixSeconds: 4_102_444_799), "20991231T235959Z")
    }

    func testURIEncoding() {
        XCTAssertEqual(SigV4Signer.uriEncode("a b/c~d*é"), "a%20b%2Fc~d%2A%C3%A9")
        XCTAssertEqual(SigV4Signer.uriEncode("/bucket/pre fix/x", encodeSlash: false), "/bucket/pre%20fix/x")
    }

    func testCredentialsNeverPrintTheSecret() throws {
        let c = S3Credentials(accessKeyID: "AKID", secretAccessKey: "s3cr3t-value")
        XCTAssertFalse("\(c)".contains("s3cr3t"))
    }
}
