import ArgumentParser
import CairnEngine
import CairnOps

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Repository size, dedup and compression ratios.",
        discussion: "Unique bytes are the content (file and stream chunks) stored once; the dedup ratio is logical bytes over unique bytes and the compression ratio unique bytes over their stored size, both without the metadata (trees, chunk lists), which is shown apart. --json: one document.")

    @OptionGroup var options: RepositoryOptions

    func run() async throws {
        let repo = try await options.open()
        let t = try repo.index.totals()
        let snaps = try repo.snapshots()
        let logical = StorageRatios.total(snaps.map(\.snapshot.logicalBytes))
        // Content against content: snapshots count file and stream bytes, so trees and chunk lists stay out of both ratios.
        let ratios = StorageRatios(logicalBytes: logical, uniqueBytes: UInt64(max(0, t.dataRawBytes)), storedBlobBytes: UInt64(max(0, t.dataStoredBytes)))
        let dedup = ratios.dedup, compression = ratios.compression
        let metadata = UInt64(max(0, t.rawBytes - t.dataRawBytes))
        if options.json {
            Terminal.json(StatsJSON(snapshots: snaps.count, logical_bytes: logical, unique_bytes: UInt64(max(0, t.dataRawBytes)),
                                    metadata_bytes: metadata, stored_bytes: UInt64(t.packBytes), chunk_count: t.dataBlobCount, blob_count: t.blobCount,
                                    pack_count: t.packCount, dedup_ratio: dedup, compression_ratio: compression))
        } else {
            Terminal.out("snapshots:          \(snaps.count)")
            Terminal.out("logical bytes:      \(Terminal.bytes(logical))")
            Terminal.out("unique bytes:       \(Terminal.bytes(UInt64(max(0, t.dataRawBytes))))")
            Terminal.out("metadata bytes:     \(Terminal.bytes(metadata)) (trees and chunk lists)")
            Terminal.out("stored bytes:       \(Terminal.bytes(UInt64(t.packBytes))) in \(t.packCount) packs")
            Terminal.out("chunks:             \(t.dataBlobCount) (\(t.blobCount) blobs with metadata)")
            Terminal.out("dedup ratio:        \(String(format: "%.2f", dedup))")
            Terminal.out("compression ratio:  \(String(format: "%.2f", compression))")
        }
    }
}

struct StatsJSON: Encodable {
    let snapshots: Int, logical_bytes: UInt64, unique_bytes: UInt64, metadata_bytes: UInt64, stored_bytes: UInt64
    let chunk_count: Int64, blob_count: Int64, pack_count: Int64, dedup_ratio: Double, compression_ratio: Double
}
