import CairnCrypto
import Foundation

/// How a single PUT proves that the server stored exactly the bytes sent
/// (Docs/s3.md, "Checksums"). Each is end to end; they differ in who hashes.
/// A client starts with `supplied` on AWS and `serverComputed` elsewhere and
/// moves down as the server's answers show what it supports; it never moves back.
enum UploadCheck: Sendable, Equatable {
    /// `x-amz-sdk-checksum-algorithm: SHA256` without a value: the server computes
    /// the body's SHA-256 and answers it in `x-amz-checksum-sha256`, which is
    /// compared with the SHA-256 the request was signed with (moto computes it
    /// but checks nothing it is given). AWS refuses this form (400 InvalidRequest).
    case serverComputed
    /// `x-amz-checksum-sha256` given: the server verifies it and refuses a body
    /// that does not match (AWS: BadDigest), as it verifies the signed payload
    /// hash (XAmzContentSHA256Mismatch). Nothing to compare afterwards.
    case supplied
    /// `Content-MD5`, and the ETag (the MD5 of what the server received)
    /// compared with it: servers that answer no checksum. Costs an MD5 of every body.
    case md5

    /// AWS's own endpoints insist on a checksum value and verify it; any other server is asked to compute one.
    static func first(for location: S3Location) -> UploadCheck {
        let host = location.hostHeader.split(separator: ":").first.map(String.init) ?? ""
        return host.hasSuffix(".amazonaws.com") ? .supplied : .serverComputed
    }
}

extension S3Client {
    /// The headers that carry `kind`'s checksum. `x-amz-sdk-checksum-algorithm` (or
    /// `Content-MD5`) is also what an Object Lock PUT needs on AWS and moto.
    static func checksumHeaders(_ kind: UploadCheck, sha256: [UInt8], md5: [UInt8]?) -> [(name: String, value: String)] {
        switch kind {
        case .serverComputed: return [("x-amz-sdk-checksum-algorithm", "SHA256")]
        case .supplied: return [("x-amz-sdk-checksum-algorithm", "SHA256"), ("x-amz-checksum-sha256", Data(sha256).base64EncodedString())]
        case .md5: return [("content-md5", MD5.base64(md5: md5 ?? []))]
        }
    }

    /// The kind to send next when `r` refused a PUT for the checksum headers of
    /// `sent` (and records it for later uploads); nil when it did not.
    func checkAfterRefusal(_ r: HTTPResponse, sent: UploadCheck) -> UploadCheck? {
        guard r.status == 400 else { return nil }
        let message = S3XML.first("Message", in: String(decoding: r.body, as: UTF8.self)) ?? ""
        let next: UploadCheck
        if sent != .md5 && message.contains("Content-MD5") {
            next = .md5  // a server that demands Content-MD5 (Object Lock on some S3-compatible servers)
        } else if sent == .serverComputed && message.contains("x-amz-checksum") {
            next = .supplied  // a checksum algorithm without its value: AWS's refusal
        } else {
            return nil
        }
        uploadCheck.withLock { if $0 == sent { $0 = next } }
        return next
    }

    /// Proves a PUT that `r` accepted stored the bytes sent, as `sent` allows.
    func confirm(_ r: HTTPResponse, key: String, body: [UInt8], sha256: [UInt8], md5: [UInt8]?, sent: UploadCheck) async throws {
        switch sent {
        case .supplied:
            return  // the server verified the body against both hashes before storing it
        case .md5:
            if etagVerdict(r, md5: md5 ?? MD5.digest(body)) == .differs {
                try await verifyByReadingBack(key, body, etag: r.headers["etag"] ?? "")
            }
        case .serverComputed:
            guard let answered = r.headers["x-amz-checksum-sha256"] else {
                // This server computes no checksum: its ETags are the check, from this upload on.
                uploadCheck.withLock { if $0 == .serverComputed { $0 = .md5 } }
                return try await confirm(r, key: key, body: body, sha256: sha256, md5: MD5.digest(body), sent: .md5)
            }
            if answered == Data(sha256).base64EncodedString() { return }
            try await settleChecksumMismatch(key: key, body: body, sha256: sha256, answered: answered)
        }
    }

    /// The server's SHA-256 is not the one the PUT was signed with: corrupted in
    /// transit (the object read back differs: deleted, transient), a body that
    /// is not the pack its name says (deleted, not retried), or a server whose
    /// checksums say something else (the object is intact: its ETags are the check from now on).
    private func settleChecksumMismatch(key: String, body: [UInt8], sha256: [UInt8], answered: String) async throws {
        let actual = SHA256.hash(body)
        if actual != sha256 {
            try? await deleteObject(key)
            throw S3Error.wrongName(request: describe("PUT", key: key),
                                    reason: "the bytes given do not hash to the SHA-256 they were sent as (\(SigV4Signer.hex(sha256).prefix(16))…): not stored")
        }
        try await readBack(key, body, why: "the server's SHA-256 \(String(answered.prefix(48)).debugDescription) is not the one of the bytes sent")
        uploadCheck.withLock { $0 = .md5 }
    }
}
