import ArgumentParser
import CairnCrypto
import CairnEngine
import CairnRepository
import CairnFormat
import Foundation

/// Prints FastCDC cut points and a dedup estimate without storing anything.
struct ChunkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "chunk", abstract: "Print chunk cut points and a dedup estimate for files (stores nothing).")

    @Argument(help: "Files to chunk.") var files: [String]
    @Option(help: "Minimum chunk size in bytes (default avg/4).") var min: Int?
    @Option(help: "Average chunk size in bytes.") var avg: Int = 16384
    @Option(help: "Maximum chunk size in bytes (default avg*4).") var max: Int?
    @Option(help: "Normalization level 0-3.") var normalization: UInt8 = 1
    @Option(help: "XORed into every gear-table entry.") var seed: UInt64 = 0
    @Flag(help: "Print JSON lines: one object per chunk, then a summary object.") var json = false

    func validate() throws {
        if files.contains("") { throw ValidationError("a file name is empty (\"\")") }
    }

    func run() async throws {
        let params = ChunkerParameters(minimumSize: min ?? avg / 4, averageSize: avg, maximumSize: max ?? avg * 4,
                                       normalization: normalization, seed: seed)
        let chunker: FastCDC
        do { chunker = try FastCDC(params) } catch { throw ValidationError(describe(error)) }
        var seen = Set<ChunkID>()
        var total: UInt64 = 0, unique: UInt64 = 0, count = 0
        for file in files {
            let fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw CairnError.pathNotFound(file) }
            defer { close(fd) }
            let stream = ChunkReader(fd: fd, chunker: chunker, path: file)
            var offset: UInt64 = 0
            while let chunk = try stream.next() {
                let id = SHA256.id(chunk)
                if json {
                    Terminal.json(ChunkJSON(file: file, offset: offset, length: chunk.count, sha256: id.hex))
                } else {
                    Terminal.out("\(file)\t\(offset)\t\(chunk.count)\t\(id.hex)")
                }
                offset += UInt64(chunk.count); total += UInt64(chunk.count); count += 1
                if seen.insert(id).inserted { unique += UInt64(chunk.count) }
            }
        }
        let ratio = unique > 0 ? Double(total) / Double(unique) : 1
        if json {
            Terminal.json(ChunkSummaryJSON(chunks: count, unique_chunks: seen.count, bytes: total, unique_bytes: unique, dedup_ratio: ratio))
        } else {
            Terminal.out("\(count) chunks (\(seen.count) unique), \(total) bytes, \(unique) unique bytes, dedup ratio \(String(format: "%.3f", ratio))")
        }
    }
}

struct ChunkJSON: Encodable { let file: String, offset: UInt64, length: Int, sha256: String }
struct ChunkSummaryJSON: Encodable { let chunks: Int, unique_chunks: Int, bytes: UInt64, unique_bytes: UInt64, dedup_ratio: Double }
