/// What went wrong talking to an S3-compatible server, with the request named.
public enum S3Error: Error, Sendable, CustomStringConvertible {
    /// A bad repository URL, missing credentials or a bad option: fix the invocation.
    case configuration(String)
    /// The server answered with an error status.
    case response(status: Int, code: String, message: String, request: String)
    /// No answer: connection refused or dropped, timeout, a truncated body.
    case transport(request: String, reason: String)
    /// Bytes put as a pack do not hash to the name they were given: a fault in
    /// the caller, not in transit, so retrying cannot help.
    case wrongName(request: String, reason: String)

    public var description: String {
        switch self {
        case .configuration(let m): return m
        case .response(let status, let code, let message, let request):
            let what = code.isEmpty ? "HTTP \(status)" : "HTTP \(status) \(code)"
            let detail = message.isEmpty ? "" : " (\(message))"
            return "\(request): \(what)\(detail)\(Self.advice(status: status, code: code, request: request))"
        case .transport(let request, let reason), .wrongName(let request, let reason): return "\(request): \(reason)"
        }
    }

    /// True for failures worth retrying: 5xx, 429, throttling, timeouts, dropped connections.
    public var isTransient: Bool {
        switch self {
        case .configuration, .wrongName: return false
        case .transport: return true
        case .response(let status, let code, _, _):
            return status >= 500 || status == 429 || status == 408
                || ["SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling", "ThrottlingException",
                    "RequestTimeTooSkewed", "XAmzContentSHA256Mismatch", "BadDigest"].contains(code) && status != 403
        }
    }

    private static func advice(status: Int, code: String, request: String) -> String {
        if code == "AccessDenied" || code == "PreconditionFailed" && request.hasPrefix("PUT ") {
            // Append-only credentials (Docs/immutability.md) refuse exactly these two.
            if request.hasPrefix("DELETE ") {
                return ": these credentials may not delete here (append-only credentials?); deleting belongs to maintenance run with its own credentials (plan key maintenance-credentials, Docs/immutability.md)"
            }
            if request.hasPrefix("PUT ") && !request.contains("?") {
                return ": these credentials may not write this object (an append-only policy refuses overwriting an existing one); check the key's policy (Docs/immutability.md)"
            }
        }
        switch code {
        case "NoSuchBucket": return ": the bucket does not exist; create it (cairn init creates it) or fix the repository URL"
        case "AccessDenied", "AllAccessDisabled": return ": the credentials may not use this bucket; check the key's policy or AWS_PROFILE"
        case "InvalidAccessKeyId": return ": the access key id is unknown to this server; check AWS_ACCESS_KEY_ID or AWS_PROFILE"
        case "SignatureDoesNotMatch": return ": the secret key is wrong for this access key (or AWS_REGION does not match the bucket's region)"
        case "AuthorizationHeaderMalformed": return ": set AWS_REGION to the bucket's region"
        case "PermanentRedirect": return ": the bucket is in another region or needs another endpoint; set AWS_REGION or use the region's endpoint"
        default: return status == 403 ? ": access denied; check the credentials and the bucket policy" : ""
        }
    }
}
