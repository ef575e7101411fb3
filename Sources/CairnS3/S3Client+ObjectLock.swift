import CairnStorage
import Foundation

/// Object Lock and versioning: retention headers and `?retention`, the bucket's
/// `?versioning` and `?object-lock` configuration, `?versions` listings and
/// reads and deletes of one version (Docs/immutability.md).
extension S3Client {
    static func lockHeaders(_ lock: ObjectRetention) -> [(name: String, value: String)] {
        [("x-amz-object-lock-mode", lock.mode.rawValue),
         ("x-amz-object-lock-retain-until-date", S3Time.format(seconds: lock.retainUntil))]
    }

    /// The current version's retention from a HEAD (nil: none); `nil` object: absent.
    public func objectRetention(_ key: String) async throws -> (exists: Bool, retention: ObjectRetention?) {
        let r = try await send("HEAD", key: key)
        if r.status == 404 { return (false, nil) }
        try check(r, "HEAD", key: key)
        guard let modeText = r.headers["x-amz-object-lock-mode"], let untilText = r.headers["x-amz-object-lock-retain-until-date"] else {
            return (true, nil)
        }
        guard let mode = ObjectLockMode(rawValue: modeText.uppercased()), let until = S3Time.parseSeconds(untilText) else {
            throw S3Error.transport(request: describe("HEAD", key: key),
                                   reason: "unreadable Object Lock headers \(String(modeText.prefix(40)).debugDescription) \(String(untilText.prefix(40)).debugDescription)")
        }
        return (true, ObjectRetention(mode: mode, retainUntil: until))
    }

    /// PUT `?retention` on the current version (or `version`).
    public func putObjectRetention(_ key: String, _ retention: ObjectRetention, version: String? = nil) async throws {
        let xml = "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>\(retention.mode.rawValue)</Mode>"
            + "<RetainUntilDate>\(S3Time.format(seconds: retention.retainUntil))</RetainUntilDate></Retention>"
        let body = Array(xml.utf8)
        var query: [(name: String, value: String)] = [("retention", "")]
        if let version { query.append(("versionId", version)) }
        let r = try await send("PUT", key: key, query: query, headers: [("content-md5", MD5.base64(body)), ("content-type", "application/xml")], body: body)
        try check(r, "PUT", key: key)
    }

    /// The bucket's versioning status (`Enabled`, `Suspended`, `Off`) and whether Object Lock is enabled.
    public func bucketProtection() async throws -> BucketProtection {
        let v = try await send("GET", key: nil, query: [("versioning", "")])
        try check(v, "GET", key: nil)
        let status = S3XML.first("Status", in: String(decoding: v.body, as: UTF8.self)) ?? "Off"
        let l = try await send("GET", key: nil, query: [("object-lock", "")])
        var lockEnabled = false
        if l.status == 200 {
            lockEnabled = S3XML.first("ObjectLockEnabled", in: String(decoding: l.body, as: UTF8.self)) == "Enabled"
        } else if l.status != 404 || S3XML.first("Code", in: String(decoding: l.body, as: UTF8.self)) == "NoSuchBucket" {
            try check(l, "GET", key: nil)
        }
        return BucketProtection(versioning: status.isEmpty ? "Off" : status, objectLockEnabled: lockEnabled)
    }

    /// Creates the bucket with Object Lock enabled (which turns versioning on).
    public func createBucketWithObjectLock() async throws {
        var body: [UInt8] = []
        if region != "us-east-1" {
            body = Array("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(S3XML.escape(region))</LocationConstraint></CreateBucketConfiguration>".utf8)
        }
        let r = try await send("PUT", key: nil, headers: [("x-amz-bucket-object-lock-enabled", "true")], body: body)
        try check(r, "PUT", key: nil)
    }

    /// One entry of a `?versions` listing.
    public struct Version: Sendable, Equatable {
        public var key: String
        public var versionID: String
        public var lastModifiedMillis: Int64
        public var isDeleteMarker: Bool
        public var size: UInt64
    }

    /// Every version and delete marker under `prefix` (ListObjectVersions), following the key and
    /// version markers; a marker pair the server already sent ends the listing with an error.
    public func listObjectVersions(prefix: String) async throws -> [Version] {
        var out: [Version] = []
        var marker: (key: String, version: String)?
        var seen: Set<String> = []
        repeat {
            var query: [(name: String, value: String)] = [("versions", ""), ("prefix", prefix), ("max-keys", String(listPageSize))]
            if let marker { query += [("key-marker", marker.key), ("version-id-marker", marker.version)] }
            let r = try await send("GET", key: nil, query: query)
            try check(r, "GET", key: nil)
            let xml = String(decoding: r.body, as: UTF8.self)
            for (tag, item) in S3XML.elements(["Version", "DeleteMarker"], in: xml) {
                guard let key = S3XML.first("Key", in: item), let id = S3XML.first("VersionId", in: item),
                      let when = S3XML.first("LastModified", in: item).flatMap(S3Time.parseMillis) else {
                    throw S3Error.transport(request: describe("GET", key: nil), reason: "a version without Key, VersionId or LastModified in the listing")
                }
                out.append(Version(key: key, versionID: id, lastModifiedMillis: when, isDeleteMarker: tag == "DeleteMarker",
                                   size: S3XML.first("Size", in: item).flatMap(UInt64.init) ?? 0))
            }
            marker = nil
            if S3XML.first("IsTruncated", in: xml) == "true" {
                guard let k = S3XML.first("NextKeyMarker", in: xml) else {
                    throw S3Error.transport(request: describe("GET", key: nil), reason: "version listing truncated without a NextKeyMarker")
                }
                let v = S3XML.first("NextVersionIdMarker", in: xml) ?? ""
                guard seen.insert(k + "\u{0}" + v).inserted else {
                    throw S3Error.transport(request: describe("GET", key: nil), reason: "the server sent the same version marker twice: the listing would never end")
                }
                marker = (k, v)
            }
        } while marker != nil
        return out
    }

    /// One version of an object; nil when that version does not exist.
    public func getObjectVersion(_ key: String, version: String, range: ClosedRange<UInt64>? = nil) async throws -> [UInt8]? {
        let headers: [(name: String, value: String)] = range.map { [("range", "bytes=\($0.lowerBound)-\($0.upperBound)")] } ?? []
        let r = try await send("GET", key: key, query: [("versionId", version)], headers: headers)
        if r.status == 416 { return [] }
        if r.status == 404, S3XML.first("Code", in: String(decoding: r.body, as: UTF8.self)) != "NoSuchBucket" { return nil }
        try check(r, "GET", key: key, ok: [200, 206])
        if let range, r.status == 200 {
            // A server that ignores Range sends the whole version: cut it here.
            let start = Int(min(range.lowerBound, UInt64(r.body.count)))
            let end = Int(min(range.upperBound + 1, UInt64(r.body.count)))
            return Array(r.body[start..<end])
        }
        if let declared = r.headers["content-length"].flatMap(Int.init), declared != r.body.count {
            throw S3Error.transport(request: describe("GET", key: key), reason: "body truncated: \(r.body.count) of \(declared) bytes")
        }
        return r.body
    }

    /// Deletes one version for good; S3 refuses while it is locked (AccessDenied).
    public func deleteObjectVersion(_ key: String, version: String) async throws {
        let r = try await send("DELETE", key: key, query: [("versionId", version)])
        if r.status == 404, S3XML.first("Code", in: String(decoding: r.body, as: UTF8.self)) == "NoSuchVersion" { return }
        try check(r, "DELETE", key: key, ok: [200, 204])
    }
}

/// S3's timestamps: ISO 8601 in UTC, with or without milliseconds.
enum S3Time {
    static func format(seconds: Int64) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// `2026-12-06T11:12:37Z`, `…37.123Z`, `…37.123456+00:00`: milliseconds since 1970.
    static func parseMillis(_ text: String) -> Int64? {
        let s = Array(text.utf8)
        guard s.count >= 19, s.count <= 40 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var v = 0
            for i in from..<(from + count) {
                guard s[i] >= 0x30 && s[i] <= 0x39 else { return nil }
                v = v * 10 + Int(s[i] - 0x30)
            }
            return v
        }
        guard let year = number(0, 4), s[4] == 0x2D, let month = number(5, 2), s[7] == 0x2D, let day = number(8, 2),
              s[10] == 0x54 || s[10] == 0x20, let hour = number(11, 2), s[13] == 0x3A, let minute = number(14, 2), s[16] == 0x3A,
              let second = number(17, 2), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var i = 19
        var millis = 0
        if i < s.count && s[i] == 0x2E {
            i += 1
            var digits = 0
            while i < s.count, s[i] >= 0x30 && s[i] <= 0x39 {
                if digits < 3 { millis = millis * 10 + Int(s[i] - 0x30) }
                digits += 1; i += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { millis *= 10 } }
        }
        let rest = String(decoding: s[i...], as: UTF8.self)
        guard rest == "Z" || rest == "+00:00" || rest.isEmpty else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm), no time zone database needed.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return (Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)) * 1000 + Int64(millis)
    }

    static func parseSeconds(_ text: String) -> Int64? { parseMillis(text).map { $0 / 1000 } }
}
