import CairnS3
import CairnTestSupport
import Foundation
import XCTest

/// Cairn's signatures on the requests its S3 client really sends, compared
/// with botocore's S3SigV4Auth signing the same requests at the same instant.
final class BotocoreSignatureTests: XCTestCase {
    func testSignaturesMatchBotocore() async throws {
        try requirePython("import botocore")
        let canned: @Sendable (HTTPRequest) -> HTTPResponse = { r in
            if r.url.contains("uploads") { return HTTPResponse(status: 200, headers: [:], body: Array("<UploadId>up/1+x</UploadId>".utf8)) }
            if r.method == "HEAD" { return HTTPResponse(status: 200, headers: ["content-length": "3"], body: []) }
            return HTTPResponse(status: 200, headers: ["etag": "\"x\""], body: [])
        }
        for (token, host, virtual) in [(nil as String?, "127.0.0.1:9000", false), ("FQoGZXIvYXdzEXAMPLE//token+/=", "s3.eu-west-1.amazonaws.com", true)] {
            let transport = RecordingTransport(respond: canned)
            let creds = S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: token)
            let location = try S3Location(url: "s3:http://\(host)/cairn-bucket/pre fix/ü", virtualHost: virtual)
            let client = S3Client(location: location, credentials: creds, region: "eu-west-1", transport: transport, now: { 1_440_938_160 })
            let body = Array("pack bytes".utf8)
            try await client.putObject("pre fix/ü/data/ab/abcdef", body, storageClass: "STANDARD_IA")
            _ = try await client.getObject("pre fix/ü/config", range: 10...19)
            _ = try await client.headObject("pre fix/ü/keys/k1")
            _ = try await client.listObjects(prefix: "pre fix/ü/index/")
            try await client.deleteObject("pre fix/ü/locks/l1")
            let id = try await client.createMultipartUpload("pre fix/ü/data/cd/cdef")
            _ = try? await client.uploadPart("pre fix/ü/data/cd/cdef", uploadID: id, number: 2, body)
            try await client.completeMultipartUpload("pre fix/ü/data/cd/cdef", uploadID: id, etags: ["\"e1\"", "\"e2\""])
            _ = try await client.send("GET", key: nil, query: [("list-type", "2"), ("continuation-token", "1/a+b=c d~"), ("prefix", "x")])
            let requests = transport.requests
            XCTAssertEqual(requests.count, 9)

            let spec: [String: Any] = [
                "accessKeyID": creds.accessKeyID, "secretAccessKey": creds.secretAccessKey, "sessionToken": token as Any,
                "region": "eu-west-1", "amzDate": "20150830T123600Z",
                "requests": requests.map { r -> [String: Any] in
                    ["method": r.method, "url": r.url,
                     "headers": r.headers.filter { !["authorization", "accept-encoding"].contains($0.name.lowercased()) }.map { [$0.name, $0.value] },
                     "bodyHex": r.body.map { String(format: "%02x", $0) }.joined()]
                },
            ]
            let answer = try runPython(script: "botocore_sign.py", stdin: try JSONSerialization.data(withJSONObject: spec))
            let boto = try XCTUnwrap(try JSONSerialization.jsonObject(with: answer) as? [[String: String]])
            XCTAssertEqual(boto.count, requests.count)
            for (r, b) in zip(requests, boto) {
                let ours = r.headers.first { $0.name == "Authorization" }?.value
                XCTAssertEqual(ours, b["authorization"], "\(r.method) \(r.url)\nbotocore canonical request:\n\(b["canonicalRequest"] ?? "")")
            }
        }
    }

    private func requirePython(_ code: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", code]
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        if p.terminationStatus != 0 { throw MotoServer.unavailable("python3 cannot \(code)") }
    }

    private func runPython(script: String, stdin: Data) throws -> Data {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/\(script)").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", path]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        p.standardInput = input; p.standardOutput = output; p.standardError = errors
        try p.run()
        input.fileHandleForWriting.write(stdin)
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw NSError(domain: "botocore", code: Int(p.terminationStatus), userInfo: [NSLocalizedDescriptionKey: String(decoding: err, as: UTF8.self)])
        }
        return out
    }
}
