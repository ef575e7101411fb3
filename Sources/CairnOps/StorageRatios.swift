/// A repository's dedup and compression ratios, computed as `cairn stats` does:
/// dedup = logical bytes of every snapshot / plaintext bytes of unique blobs,
/// compression = plaintext bytes of unique blobs / their stored (sealed) bytes.
public struct StorageRatios: Sendable, Equatable {
    public var logicalBytes: UInt64
    public var uniqueBytes: UInt64
    public var storedBlobBytes: UInt64

    public init(logicalBytes: UInt64, uniqueBytes: UInt64, storedBlobBytes: UInt64) {
        self.logicalBytes = logicalBytes; self.uniqueBytes = uniqueBytes; self.storedBlobBytes = storedBlobBytes
    }

    /// The sum of snapshots' byte counts, saturating at UInt64.max: the counts
    /// come from snapshot objects, which anyone holding the key can write.
    public static func total<S: Sequence>(_ counts: S) -> UInt64 where S.Element == UInt64 {
        counts.reduce(UInt64(0)) { sum, n in
            let (s, overflow) = sum.addingReportingOverflow(n)
            return overflow ? .max : s
        }
    }

    /// 0 when nothing is stored.
    public var dedup: Double { uniqueBytes > 0 ? Double(logicalBytes) / Double(uniqueBytes) : 0 }
    /// 0 when nothing is stored.
    public var compression: Double { storedBlobBytes > 0 ? Double(uniqueBytes) / Double(storedBlobBytes) : 0 }
}
