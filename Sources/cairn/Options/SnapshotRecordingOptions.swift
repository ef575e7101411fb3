import ArgumentParser
import CairnCompression
import CairnEngine

/// What a backup records about itself and how it compresses: shared by every
/// command that makes a snapshot.
struct SnapshotRecordingOptions: ParsableArguments {
    @Option(name: .customLong("tag"), help: "A tag to record (repeatable).")
    var tags: [String] = []

    @Option(help: "Host name to record instead of this machine's.")
    var host: String?

    @Option(help: "Time to record instead of now (RFC 3339, e.g. 2026-01-31T02:00:00Z).")
    var time: String?

    @Option(help: "Compression for new chunks: off, fast, default, max or a zstd level 1-22 (default: the repository's).")
    var compression: String?

    func validate() throws {
        if let compression, Zstd.level(named: compression) == nil {
            throw ValidationError("--compression must be off, fast, default, max or 1-22")
        }
        if tags.contains(where: { $0.isEmpty }) { throw ValidationError("--tag is empty") }
        if host == "" { throw ValidationError("--host is empty") }
        if let time, Terminal.parseRFC3339(time) == nil {
            throw ValidationError("--time \(time.debugDescription) is not RFC 3339 (like 2026-01-31T02:00:00Z)")
        }
    }

    /// Copies tags, host, time and compression into a backup's options.
    func apply(to options: inout BackupOptions) {
        options.tags = tags
        options.host = host
        options.timeNanos = time.flatMap(Terminal.parseRFC3339)
        options.compressionLevel = compression.flatMap(Zstd.level(named:))
    }
}
