import CairnS3
import Foundation
import XCTest

/// S3 error classification (which errors the RetryingStore retries), credentials
/// files and profiles, and S3 URLs, without a server.
final class S3ConfigurationTests: XCTestCase {
    func testS3ErrorClassification() {
        func r(_ s: Int, _ c: String) -> S3Error { .response(status: s, code: c, message: "", request: "GET x") }
        XCTAssertTrue(r(503, "SlowDown").isTransient)
        XCTAssertTrue(r(500, "InternalError").isTransient)
        XCTAssertTrue(r(429, "").isTransient)
        XCTAssertTrue(S3Error.transport(request: "GET x", reason: "reset").isTransient)
        XCTAssertFalse(r(403, "AccessDenied").isTransient)
        XCTAssertFalse(r(404, "NoSuchBucket").isTransient)
        XCTAssertFalse(r(403, "SignatureDoesNotMatch").isTransient)
        XCTAssertTrue(r(403, "AccessDenied").description.contains("check the key's policy"))
        XCTAssertTrue(r(404, "NoSuchBucket").description.contains("bucket does not exist"))
    }

    func testCredentialsFileAndProfiles() throws {
        let dir = NSTemporaryDirectory() + "cairn-creds-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = "\(dir)/credentials"
        try Data("""
            [default]
            aws_access_key_id = AKIDDEFAULT
            aws_secret_access_key = secret-default

            [profile backup]
            aws_access_key_id=AKIDBACKUP
            aws_secret_access_key=secret-backup
            aws_session_token = tok
            """.utf8).write(to: URL(fileURLWithPath: file))
        let d = try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file])
        XCTAssertEqual(d.accessKeyID, "AKIDDEFAULT")
        let b = try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "backup"])
        XCTAssertEqual(b.accessKeyID, "AKIDBACKUP"); XCTAssertEqual(b.sessionToken, "tok")
        let e = try S3Credentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SHARED_CREDENTIALS_FILE": file])
        XCTAssertEqual(e.accessKeyID, "ENV")
        XCTAssertThrowsError(try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "nope"]))
        XCTAssertThrowsError(try S3Credentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "ENV"]))
    }

    func testLocations() throws {
        let l = try S3Location(url: "s3:https://s3.eu-west-1.amazonaws.com/bucket-1/a/b/")
        XCTAssertEqual(l.bucket, "bucket-1"); XCTAssertEqual(l.prefix, "a/b"); XCTAssertEqual(l.regionFromHost, "eu-west-1")
        XCTAssertEqual(l.target(key: "a/b/config").path, "/bucket-1/a/b/config")
        let v = try S3Location(url: "s3:http://127.0.0.1:9000/bkt", virtualHost: true)
        XCTAssertEqual(v.target(key: "config").host, "bkt.127.0.0.1:9000")
        XCTAssertEqual(v.prefix, "")
        for bad in ["s3:", "s3:http://", "s3:http://h", "s3:ftp://h/b", "s3:http://h/b?x=1", "s3:http://u:p@h/bkt", "s3:http://h/bkt/../x", "s3:http://h/a"] {
            XCTAssertThrowsError(try S3Location(url: bad), bad)
        }
    }
}
