import CairnFormat
#if canImport(Glibc)
import Glibc
#endif

extension Restorer {
    /// One file of a tree restore, with where it goes.
    struct FileJob: Sendable {
        let node: Node
        let directory: DirectoryHandle
        let display: String
        /// Walk order.
        let index: Int
        let directoryID: Int
        /// The owner to set (nil: leave the restoring user's).
        let owner: (uid: UInt32, gid: UInt32)?
    }

    /// A file restored by the task group.
    struct FileOutcome: Sendable {
        let bytes: UInt64
        let warnings: [String]
        let device: UInt64
        let inode: UInt64
    }

    /// What a file task hands back: failures are values, so that one file's
    /// error does not cancel the files before it (the group would cancel all).
    enum FileResult: Sendable {
        case restored(index: Int, directory: Int, FileOutcome)
        case failed(index: Int, directory: Int, error: CairnError)
    }

    /// Files restored in batches: content of one window at most, listed in the node itself.
    func isSmall(_ node: Node) -> Bool {
        node.content.level == 0 && node.content.ids.count <= window && node.size <= UInt64(ContentReader.windowBytes)
    }

    /// Restores `jobs`: a single file through its own window of chunks; a
    /// batch of small files with one index lookup and one read of their blobs
    /// (neighbouring blobs of a pack in one ranged read), opened on every core,
    /// then written one after another. A batch whose blobs cannot all be read
    /// is restored file by file, so each error names its own file.
    func restoreFiles(_ jobs: [FileJob], stop: FailedFile) async -> [FileResult] {
        if jobs.count > 1, let chunks = try? await batchContent(jobs) {
            var results: [FileResult] = []
            var at = 0
            for job in jobs {
                let n = job.node.content.ids.count
                let mine = Array(chunks[at..<(at + n)])
                at += n
                results.append(await result(job) {
                    try await self.restoreFile(job, stop: stop) { sink in if !mine.isEmpty { try sink(mine) } }
                })
            }
            return results
        }
        var results: [FileResult] = []
        for job in jobs {
            results.append(await result(job) {
                try await self.restoreFile(job, stop: stop) { sink in
                    try await ContentReader(repo: self.repo, window: self.window).readWindows(job.node.content, sink: sink)
                }
            })
        }
        return results
    }

    /// The verified chunks of every file of `jobs`, in order.
    private func batchContent(_ jobs: [FileJob]) async throws -> [[UInt8]] {
        let ids = jobs.flatMap(\.node.content.ids)
        guard !ids.isEmpty else { return [] }
        let located = try await repo.locateDataChunks(ids)
        return try await repo.readDataChunks(located.reads[...], baseLocations: located.bases)
    }

    private func result(_ job: FileJob, _ body: () async throws -> FileOutcome) async -> FileResult {
        do {
            return .restored(index: job.index, directory: job.directoryID, try await body())
        } catch let e as CairnError {
            return .failed(index: job.index, directory: job.directoryID, error: e)
        } catch {
            return .failed(index: job.index, directory: job.directoryID, error: .other(describe(error)))
        }
    }

    /// Writes one file unnamed (or under a random temporary name) from the
    /// windows `content` hands its sink, sets its metadata on the descriptor,
    /// and names it only when every chunk was verified and the length matches
    /// (no fsync: the restore syncs the file system once at its end). Stops
    /// early when `stop` reports a failed file before the job's.
    func restoreFile(_ job: FileJob, stop: FailedFile?,
                     content: (_ sink: ([[UInt8]]) throws -> Void) async throws -> Void) async throws -> FileOutcome {
        let node = job.node, display = job.display, dir = job.directory
        let relativeName = String(display.dropFirst())
        let file: DirectoryHandle.NewFile
        do {
            try stop?.check(job.index)
            file = try dir.newFile(display: display)
        } catch {
            throw CairnError.restoreFailed(snapshot: String(record.id.prefix(8)), path: relativeName, reason: describe(error))
        }
        let fd = file.fd
        var written: UInt64 = 0, endsInHole = false
        do {
            try await content { chunks in
                try stop?.check(job.index)
                let bytes = chunks.reduce(0) { $0 + UInt64($1.count) }
                guard written + bytes <= node.size else { throw CairnError.other(Self.overlong(node)) }
                // Runs of data chunks go out in one writev; a chunk of zeros
                // becomes a hole: sparse files come back sparse.
                var start = 0
                for (i, chunk) in chunks.enumerated() where Self.isZero(chunk) {
                    try writeAll(fd, chunks[start..<i], path: display)
                    guard lseek(fd, off_t(chunk.count), SEEK_CUR) >= 0 else { throw CairnError.io("cannot seek in \(display): \(FileMetadata.errorText())") }
                    start = i + 1
                }
                try writeAll(fd, chunks[start...], path: display)
                if !chunks.isEmpty { endsInHole = start == chunks.count }
                written += bytes
                progress.update { $0.bytesDone += bytes }
            }
            guard written == node.size else { throw CairnError.other("restored \(written) bytes, snapshot records \(node.size)") }
            // Sets the length when the file ends in a hole.
            if endsInHole {
                guard ftruncate(fd, off_t(written)) == 0 else { throw CairnError.io("cannot set the length of \(display): \(FileMetadata.errorText())") }
            }
        } catch {
            dir.discard(file)
            throw CairnError.restoreFailed(snapshot: String(record.id.prefix(8)), path: relativeName, reason: describe(error))
        }
        // Owner before mode (a change of owner clears set-id bits), times last.
        let failures = DirectoryHandle.setMetadata(fd: fd, uid: job.owner?.uid ?? 0, gid: job.owner?.gid ?? 0, setOwner: job.owner != nil,
                                                   mode: node.mode, xattrs: node.xattrs, mtime: Self.timespec(node.mtime))
        var st = stat()
        if node.inode != 0 { _ = fstat(fd, &st) }
        let replaced: String?
        do { replaced = try dir.commit(file, as: node.name, display: display) } catch {
            close(fd)
            throw CairnError.restoreFailed(snapshot: String(record.id.prefix(8)), path: relativeName, reason: describe(error))
        }
        close(fd)
        progress.update { $0.filesDone += 1 }
        return FileOutcome(bytes: node.size, warnings: failures.map { "\(display): \($0)" } + (replaced.map { [$0] } ?? []),
                           device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }
}
