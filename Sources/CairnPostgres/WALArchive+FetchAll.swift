extension WALArchive {
    /// Fetches every file of `names` (each hash-checked) into `directory/NAME`, `batch` in parallel at a
    /// time, for a replay that must not touch the repository (a drill's restore_command copies from there).
    /// Throws naming the first file that could not be fetched; a file already in `directory` is kept.
    public func fetchAll(_ names: [String], into directory: String, batch: Int = 8) async throws {
        var i = 0
        while i < names.count {
            let part = Array(names[i..<min(i + max(batch, 1), names.count)])
            let got = Set(await prefetch(part, into: directory))
            if let lost = part.first(where: { !got.contains($0) }) {
                throw PostgresError.other("the archived WAL file \(lost) of \(name) could not be fetched")
            }
            i += part.count
        }
    }
}
