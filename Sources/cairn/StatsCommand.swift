import ArgumentParser
import CairnEngine
import CairnOps

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Repository size, dedup and compression ratios.")

    @OptionGroup var options: RepositoryOptions

    func run() async throws {
        let repo = try await options.open()
        let t = try repo.index.totals()
        let snaps = try repo.snapshots()
        let logical = StorageRatios.total(snaps.map(\.snapshot.logicalBytes))
        let ratios = StorageRatios(logicalBytes: logical, uniqueBytes: UInt64(t.rawBytes), storedBlobBytes: UInt64(t.storedBlobBytes))
        let dedup = ratios.dedup, compression = ratios.compression
        if options.json {
            Terminal.json(StatsJSON(snapshots: snaps.count, logical_bytes: logical, unique_bytes: UInt64(t.rawBytes),
                                    stored_bytes: UInt64(t.packBytes), chunk_count: t.dataBlobCount, blob_count: t.blobCount,
                                    pack_count: t.packCount, dedup_ratio: dedup, compression_ratio: compression))
        } else {
            Terminal.out("snapshots:          \(snaps.count)")
            Terminal.out("logical bytes:      \(Terminal.bytes(logical))")
            Terminal.out("unique bytes:       \(Terminal.bytes(UInt64(t.rawBytes)))")
            Terminal.out("stored bytes:       \(Terminal.bytes(UInt64(t.packBytes))) in \(t.packCount) packs")
            Terminal.out("chunks:             \(t.dataBlobCount) (\(t.blobCount) blobs with metadata)")
            Terminal.out("dedup ratio:        \(String(format: "%.2f", dedup))")
            Terminal.out("compression ratio:  \(String(format: "%.2f", compression))")
        }
    }
}

struct StatsJSON: Encodable {
    let snapshots: Int, logical_bytes: UInt64, unique_bytes: UInt64, stored_bytes: UInt64
    let chunk_count: Int64, blob_count: Int64, pack_count: Int64, dedup_ratio: Double, compression_ratio: Double
}
