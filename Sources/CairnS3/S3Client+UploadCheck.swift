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
    /// hash (XAmzContentSHA256Mismatch), and answers it. A server that answers
    /// none ignored it (then `md5`); one that echoes what it was given without
    /// checking (as moto would) cannot be told apart: such servers take `serverComputed` first.
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

    /// The kind to try next when `r` refused a PUT sent with `sent`; nil when there is
    /// none or the refusal is not one a checksum header can cause (a transient error, a
    /// digest that did not match, access denied). Servers word their refusals
    /// differently (AWS: "x-amz-sdk-checksum-algorithm specified, but no corresponding
    /// x-amz-checksum-* …"; a demand for Content-MD5 names it), so any other 400 tries the
    /// next kind, and the caller keeps it only if the server then takes the upload.
    static func checkAfterRefusal(_ r: HTTPResponse, sent: UploadCheck) -> UploadCheck? {
        guard r.status == 400 else { return nil }
        let xml = String(decoding: r.body, as: UTF8.self)
        let refusal = S3Error.response(status: r.status, code: S3XML.first("Code", in: xml) ?? "", message: "", request: "")
        guard !refusal.isTransient else { return nil }
        switch sent {
        case .serverComputed: return (S3XML.first("Message", in: xml) ?? "").contains("Content-MD5") ? .md5 : .supplied
        case .supplied: return .md5
        case .md5: return nil
        }
    }

    /// Proves a PUT that `r` accepted stored the bytes sent, as `sent` allows.
    func confirm(_ r: HTTPResponse, key: String, body: [UInt8], sha256: [UInt8], md5: [UInt8]?, sent: UploadCheck) async throws {
        switch sent {
        case .md5:
            if etagVerdict(r, md5: md5 ?? MD5.digest(body)) == .differs {
                try await verifyByReadingBack(key, body, etag: r.headers["etag"] ?? "")
            }
        case .serverComputed, .supplied:
            // A server that verified the checksum given, or computed one, answers it.
            guard let answered = r.headers["x-amz-checksum-sha256"] else {
                // None: this server computes none (or ignored the one given): its ETags are the check, from this upload on.
                uploadCheck.withLock { if $0 == sent { $0 = .md5 } }
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
