import CairnFormat

/// What a backup records and how it reads.
public struct BackupOptions: Sendable {
    public var name: String
    public var tags: [String] = []
    public var host: String? = nil
    /// Recorded time (nanoseconds since the epoch); now when nil.
    public var timeNanos: Int64? = nil
    /// Re-read files even when their stat data matches the previous snapshot.
    public var forceRead = false
    /// Chunker profile; "file" for trees and "dump" for streams when nil.
    public var profile: String? = nil
    /// zstd level for new blobs (0 = store raw); the repository default when nil.
    public var compressionLevel: Int32? = nil
    /// Facts a source wants recorded in the snapshot.
    public var extra: [String: String] = [:]

    public init(name: String) { self.name = name }
}

/// The outcome of a backup.
public struct BackupResult: Sendable {
    public var snapshotID: String
    public var snapshot: Snapshot
    /// Plaintext bytes of chunks new to the repository.
    public var newBytes: UInt64
    /// Bytes of packs written (compressed, encrypted, with headers).
    public var storedBytes: UInt64
    public var seconds: Double
    /// Files that were skipped because they could not be read.
    public var warnings: [String]
    /// Files taken from the previous snapshot without reading.
    public var unchangedFiles: UInt64
}
