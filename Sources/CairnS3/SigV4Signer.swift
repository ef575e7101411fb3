import CairnCrypto

/// One request as AWS Signature Version 4 sees it. Everything is raw (not
/// percent-encoded): the signer encodes the path and query the way S3 does.
public struct SigV4Request: Sendable {
    public var method: String
    /// The absolute path, e.g. `/bucket/prefix/config`; `/` for the root.
    public var path: String
    /// Query parameters in any order; a valueless parameter (`?uploads`) has the value "".
    public var query: [(name: String, value: String)]
    /// The headers to sign, `host` among them; names in any case.
    public var headers: [(name: String, value: String)]
    /// Lowercase hex SHA-256 of the body (or `UNSIGNED-PAYLOAD`).
    public var payloadHash: String

    public init(method: String, path: String, query: [(name: String, value: String)] = [],
                headers: [(name: String, value: String)], payloadHash: String) {
        self.method = method; self.path = path; self.query = query; self.headers = headers; self.payloadHash = payloadHash
    }
}

/// The pieces of one signature, kept for tests and diagnostics (none holds the secret key).
public struct SigV4Signature: Sendable, Equatable {
    public let canonicalRequest: String
    public let stringToSign: String
    public let signedHeaders: String
    public let signature: String
    public let authorization: String
}

/// AWS Signature Version 4 (header form), over OpenSSL's HMAC-SHA256 and SHA-256.
/// Pure: the time and the credentials are inputs, so tests can replay the
/// AWS test-suite vectors and compare with botocore byte for byte.
public struct SigV4Signer: Sendable {
    public let credentials: S3Credentials
    public let region: String
    public let service: String

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials; self.region = region; self.service = service
    }

    /// Signs `request` at `amzDate` (`YYYYMMDDTHHMMSSZ`, also sent as `x-amz-date`).
    public func sign(_ request: SigV4Request, amzDate: String) -> SigV4Signature {
        let day = String(amzDate.prefix(8))
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(request.headers)
        let canonicalRequest = [
            request.method.uppercased(),
            Self.canonicalPath(request.path),
            Self.canonicalQuery(request.query),
            canonicalHeaders,
            signedHeaders,
            request.payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Self.hex(SHA256.hash(Array(canonicalRequest.utf8))))"
        var key = HMACSHA256.mac(key: Array("AWS4\(credentials.secretAccessKey)".utf8), message: Array(day.utf8))
        for part in [region, service, "aws4_request"] { key = HMACSHA256.mac(key: key, message: Array(part.utf8)) }
        let signature = Self.hex(HMACSHA256.mac(key: key, message: Array(stringToSign.utf8)))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return SigV4Signature(canonicalRequest: canonicalRequest, stringToSign: stringToSign,
                              signedHeaders: signedHeaders, signature: signature, authorization: authorization)
    }

    /// Lowercased names, sorted; values trimmed with inner runs of spaces collapsed;
    /// repeated names joined with commas in the order given.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (String, String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers { merged[name.lowercased(), default: []].append(normalize(value)) }
        let names = merged.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let lines = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        return (lines, names.joined(separator: ";"))
    }

    private static func normalize(_ value: String) -> String {
        var out = ""
        var pendingSpace = false
        for ch in value.unicodeScalars {
            if ch == " " || ch == "\t" || ch == "\n" || ch == "\r" { pendingSpace = !out.isEmpty; continue }
            if pendingSpace { out.append(" "); pendingSpace = false }
            out.unicodeScalars.append(ch)
        }
        return out
    }

    /// S3's canonical URI: each segment URI-encoded once, slashes kept.
    public static func canonicalPath(_ path: String) -> String {
        path.isEmpty ? "/" : uriEncode(path, encodeSlash: false)
    }

    /// Parameters encoded, then sorted by name and value (byte order).
    static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (uriEncode($0.name), uriEncode($0.value)) }
            .sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// RFC 3986 encoding as SigV4 specifies it: unreserved characters
    /// (A–Z a–z 0–9 - . _ ~) stay, every other byte of the UTF-8 form is %XX
    /// with upper-case hex; `/` stays when `encodeSlash` is false.
    public static func uriEncode(_ s: String, encodeSlash: Bool = true) -> String {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(b)
            case UInt8(ascii: "/") where !encodeSlash:
                out.append(b)
            default:
                out += [UInt8(ascii: "%"), hexDigits[Int(b >> 4)], hexDigits[Int(b & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The hex SHA-256 of a body, for `x-amz-content-sha256`.
    public static func payloadHash<C: ContiguousBytes>(_ body: C) -> String { hex(SHA256.hash(body)) }

    /// `YYYYMMDDTHHMMSSZ` for seconds since 1970 (UTC), without Foundation.
    public static func amzDate(unixSeconds t: Int64) -> String {
        let days = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
        let secs = t - days * 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(pad(y, 4))\(pad(m, 2))\(pad(d, 2))T\(pad(secs / 3600, 2))\(pad(secs % 3600 / 60, 2))\(pad(secs % 60, 2))Z"
    }
}
