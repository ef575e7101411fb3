import CairnFormat
import CairnStorage
import Foundation
import Synchronization

/// A repository in an S3-compatible bucket: object `data/ab/abcd…` is key
/// `PREFIX/data/ab/abcd…`. Uploads carry `Content-MD5`, which the server
/// verifies; packs above `multipartThreshold` go up as multipart uploads with
/// parts in parallel, so the object appears whole or not at all. Errors come
/// back as `StorageError`; `.transient` ones (5xx, 429, dropped connections)
/// are for `RetryingStore` to retry.
public final class S3Store: ObjectStore {
    public let client: S3Client
    public let options: Options

    /// Tuning for one store.
    public struct Options: Sendable {
        /// Objects larger than this go up in parts.
        public var multipartThreshold = 16 << 20
        /// Packs (`putPack`) larger than this go up in parts. Up to it a pack is one PUT
        /// whose checksum and signed payload hash are its name: parts would each be hashed
        /// again. Default packs (16 MiB plus their last blob) stay under it.
        public var packMultipartThreshold = 64 << 20
        /// Size of each part but the last (S3's minimum is 5 MiB).
        public var partSize = 8 << 20
        /// Storage class for packs (`data/`); everything else stays STANDARD.
        public var dataStorageClass: String? = nil
        /// Retries of one multipart part before the whole put fails.
        public var partRetry = RetryPolicy()
        /// Ranged reads of packs go through aligned segments of this size (0: exact ranges).
        public var readSegmentSize = 4 << 20
        /// Segments kept in memory.
        public var readSegments = 24
        /// Segments fetched in one GET when reads look sequential (`SegmentCache`).
        public var readaheadSegments = 5
        public init() {}
    }

    private let segments: SegmentCache
    /// The Object Lock retention every put carries (`ObjectLockControl.setPolicy`).
    let lockPolicy = Mutex<ObjectLockPolicy?>(nil)

    public init(client: S3Client, options: Options = .init()) {
        self.client = client
        self.options = options
        segments = SegmentCache(segmentSize: max(1, options.readSegmentSize), capacity: options.readSegments, readahead: options.readaheadSegments)
    }

    public var location: String { client.location.display }

    private func objectKey(_ key: ObjectKey) -> String { client.location.key(key.path) }

    /// Runs an S3 call and turns its errors into the store's vocabulary.
    private func mapped<T>(_ key: ObjectKey, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as S3Error {
            throw Self.storageError(e, path: key.path)
        }
    }

    static func storageError(_ e: S3Error, path: String) -> StorageError {
        if e.isTransient { return .transient(e.description) }
        return .io(path, e.description)
    }

    public func put(_ key: ObjectKey, _ bytes: [UInt8]) async throws {
        try await put(key, bytes, coldEligible: false)
    }

    /// Only data packs (`coldEligible`) take `--s3-storage-class`; config, keys,
    /// index, snapshots, locks and metadata packs stay in STANDARD.
    public func put(_ key: ObjectKey, _ bytes: [UInt8], coldEligible: Bool) async throws {
        try await put(key, bytes, coldEligible: coldEligible, sha256: nil)
    }

    /// A pack's name is the SHA-256 of its bytes: it is sent as the body's checksum
    /// and signed payload hash instead of hashing the pack again (`S3Client.putObject`).
    public func putPack(_ key: ObjectKey, _ bytes: [UInt8], coldEligible: Bool) async throws {
        guard key.namespace == .data, let name = Hex.decode(key.name), name.count == 32 else {
            return try await put(key, bytes, coldEligible: coldEligible, sha256: nil)
        }
        try await put(key, bytes, coldEligible: coldEligible, sha256: name)
    }

    private func put(_ key: ObjectKey, _ bytes: [UInt8], coldEligible: Bool, sha256: [UInt8]?) async throws {
        let storageClass = coldEligible && key.namespace == .data ? options.dataStorageClass : nil
        let lock = retentionForNewObject(key)
        let threshold = sha256 == nil ? options.multipartThreshold : max(options.multipartThreshold, options.packMultipartThreshold)
        try await mapped(key) {
            if bytes.count > threshold {
                try await putMultipart(objectKey(key), bytes, storageClass: storageClass, lock: lock)
            } else {
                try await client.putObject(objectKey(key), bytes, sha256: sha256, storageClass: storageClass, lock: lock)
            }
        }
    }

    /// Parts in parallel (the client's connection cap bounds them), each
    /// retried on its own; on failure the upload is aborted so no part lingers.
    private func putMultipart(_ key: String, _ bytes: [UInt8], storageClass: String?, lock: ObjectRetention?) async throws {
        let uploadID = try await client.createMultipartUpload(key, storageClass: storageClass, lock: lock)
        let partSize = max(5 << 20, options.partSize)
        let ranges = stride(from: 0, to: bytes.count, by: partSize).map { $0..<min(bytes.count, $0 + partSize) }
        do {
            let parts = try await withThrowingTaskGroup(of: (Int, (etag: String, differs: Bool)).self) { group in
                for (i, r) in ranges.enumerated() {
                    let part = Array(bytes[r])
                    group.addTask { [client, options] in
                        let uploaded = try await options.partRetry.run {
                            do { return try await client.uploadPart(key, uploadID: uploadID, number: i + 1, part) } catch let e as S3Error {
                                throw Self.storageError(e, path: key)
                            }
                        }
                        return (i, uploaded)
                    }
                }
                var out = [(etag: String, differs: Bool)](repeating: ("", false), count: ranges.count)
                for try await (i, uploaded) in group { out[i] = uploaded }
                return out
            }
            try await client.completeMultipartUpload(key, uploadID: uploadID, etags: parts.map(\.etag))
            // A part's ETag that is not its MD5: corrupted in transit, or a server whose ETags are not MD5s. The object says which.
            if parts.contains(where: \.differs) { try await client.verifyMultipartUpload(key, bytes) }
            // Some servers (moto among them) drop the retention given when the upload was created: set it again.
            if let lock, try await client.objectRetention(key).retention.map({ $0.retainUntil < lock.retainUntil }) ?? true {
                try await client.putObjectRetention(key, lock)
            }
        } catch {
            await client.abortMultipartUpload(key, uploadID: uploadID)
            throw error
        }
    }

    public func get(_ key: ObjectKey) async throws -> [UInt8] {
        try await mapped(key) {
            guard let b = try await client.getObject(objectKey(key)) else { throw StorageError.notFound(key.path) }
            return b
        }
    }

    public func get(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] {
        guard length > 0 else { return [] }
        if key.namespace == .data && options.readSegmentSize > 0 && length <= options.readSegmentSize {
            return try await segmentedGet(key, offset: offset, length: length)
        }
        return try await mapped(key) {
            guard let b = try await client.getObject(objectKey(key), range: offset...(offset + UInt64(length) - 1)) else {
                throw StorageError.notFound(key.path)
            }
            return b
        }
    }

    /// A small range of a pack, cut from the (at most two) cached segments that hold it.
    private func segmentedGet(_ key: ObjectKey, offset: UInt64, length: Int) async throws -> [UInt8] {
        let size = UInt64(options.readSegmentSize)
        let name = objectKey(key)
        var out: [UInt8] = []
        out.reserveCapacity(length)
        var index = offset / size
        while out.count < length {
            let start = index * size
            let client = self.client
            let segment = try await mapped(key) {
                try await segments.segment(.init(object: name, index: index), sequential: offset == 0) { first, count in
                    let from = first * size
                    guard let b = try await client.getObject(name, range: from...(from + size * UInt64(count) - 1)) else { throw StorageError.notFound(key.path) }
                    return b
                }
            }
            let from = Int(offset + UInt64(out.count) - start)
            guard from < segment.count else { break }  // past the end of the object
            out += segment[from..<min(segment.count, from + length - out.count)]
            if segment.count < Int(size) { break }  // the object's last segment
            index += 1
        }
        return out
    }

    public func size(_ key: ObjectKey) async throws -> UInt64? {
        try await mapped(key) { try await client.headObject(objectKey(key)) }
    }

    /// One GET of the range `0...limit` instead of a HEAD and a GET: a round trip per small
    /// object less (a cold open reads dozens). An object larger than `limit` shows as
    /// `limit + 1` bytes received (a server that ignores Range sends more, which is cut).
    public func readWhole(_ key: ObjectKey, limit: UInt64) async throws -> BoundedRead {
        try await mapped(key) {
            let range: ClosedRange<UInt64>? = limit < UInt64.max ? 0...limit : nil
            guard let b = try await client.getObject(objectKey(key), range: range) else { throw StorageError.notFound(key.path) }
            return UInt64(b.count) > limit ? .tooLarge(nil) : .bytes(b)
        }
    }

    public func list(_ namespace: ObjectNamespace) async throws -> [ObjectKey] {
        if namespace == .config { return try await size(.config) == nil ? [] : [.config] }
        let base = client.location.key("\(namespace.rawValue)/")
        let listed = try await mapped(ObjectKey(namespace, "")) { try await client.listObjects(prefix: base) }
        var out: [ObjectKey] = []
        for (key, _) in listed {
            let rest = key.dropFirst(base.count)
            if namespace == .data {
                // data/xy/NAME with xy the first two digits of NAME.
                let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count == 2, parts[1].count == 64, parts[1].hasPrefix(parts[0]) else { continue }
                out.append(ObjectKey(.data, String(parts[1])))
            } else {
                guard !rest.isEmpty, !rest.contains("/") else { continue }
                out.append(ObjectKey(namespace, String(rest)))
            }
        }
        return out
    }

    public func delete(_ key: ObjectKey) async throws {
        try await mapped(key) { try await client.deleteObject(objectKey(key)) }
    }
}
