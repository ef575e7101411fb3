import CairnFormat
import CairnRepository
import CairnStorage
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
    /// then written on `threads`, several files at once (creating a file
    /// blocks on the file system's journal far longer than it uses a core).
    /// A batch whose blobs cannot all be read is restored file by file, so
    /// each error names its own file.
    func restoreFiles(_ jobs: [FileJob], stop: FailedFile, threads: BlockingThreads) async -> [FileResult] {
        if jobs.count > 1, let chunks = try? await batchContent(jobs) {
            var contents: [(FileJob, [[UInt8]])] = []
            contents.reserveCapacity(jobs.count)
            var at = 0
            for job in jobs {
                let n = job.node.content.ids.count
                contents.append((job, Array(chunks[at..<(at + n)])))
                at += n
            }
            return await withTaskGroup(of: (Int, FileResult).self) { group in
                for (k, (job, mine)) in contents.enumerated() {
                    group.addTask {
                        (k, await threads.run { self.result(job) { try self.restoreSmallFile(job, chunks: mine, stop: stop) } })
                    }
                }
                var results = [FileResult?](repeating: nil, count: contents.count)
                for await (k, r) in group { results[k] = r }
                return results.compactMap { $0 }
            }
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
        } catch {
            return failed(job, error)
        }
    }

    private func result(_ job: FileJob, _ body: () throws -> FileOutcome) -> FileResult {
        do {
            return .restored(index: job.index, directory: job.directoryID, try body())
        } catch {
            return failed(job, error)
        }
    }

    private func failed(_ job: FileJob, _ error: any Error) -> FileResult {
        .failed(index: job.index, directory: job.directoryID, error: error as? CairnError ?? .other(describe(error)))
    }

    /// Writes one file unnamed (or under a random temporary name) from the
    /// windows `content` hands its sink, sets its metadata on the descriptor,
    /// and names it only when every chunk was verified and the length matches
    /// (no fsync: the restore syncs the file system once at its end). Stops
    /// early when `stop` reports a failed file before the job's.
    func restoreFile(_ job: FileJob, stop: FailedFile?,
                     content: (_ sink: ([[UInt8]]) throws -> Void) async throws -> Void) async throws -> FileOutcome {
        var file = try openFile(job, stop: stop)
        do {
            try await content { chunks in try write(chunks, to: &file, job: job, stop: stop) }
        } catch {
            throw discard(file, job: job, error)
        }
        return try finishFile(file, job: job)
    }

    /// `restoreFile` of a file whose verified chunks are all at hand (a small
    /// file of a batch), without suspending: it runs on a blocking thread.
    func restoreSmallFile(_ job: FileJob, chunks: [[UInt8]], stop: FailedFile?) throws -> FileOutcome {
        var file = try openFile(job, stop: stop)
        do {
            if !chunks.isEmpty { try write(chunks, to: &file, job: job, stop: stop) }
        } catch {
            throw discard(file, job: job, error)
        }
        return try finishFile(file, job: job)
    }

    /// A restored file being written.
    struct OpenFile {
        let new: DirectoryHandle.NewFile
        var written: UInt64 = 0
        var endsInHole = false
    }

    private func failure(_ job: FileJob, _ error: any Error) -> CairnError {
        CairnError.restoreFailed(snapshot: String(record.id.prefix(8)), path: String(job.display.dropFirst()), reason: describe(error))
    }

    /// Creates the unnamed file for `job` (mode as the snapshot's where the
    /// file system gives unnamed files: nothing can open it before it is named).
    private func openFile(_ job: FileJob, stop: FailedFile?) throws -> OpenFile {
        do {
            try stop?.check(job.index)
            return OpenFile(new: try job.directory.newFile(display: job.display, unnamedMode: job.node.mode & 0o777))
        } catch {
            throw failure(job, error)
        }
    }

    /// Closes and removes a file that failed; returns the error to throw.
    private func discard(_ file: OpenFile, job: FileJob, _ error: any Error) -> CairnError {
        job.directory.discard(file.new)
        return failure(job, error)
    }

    /// Appends a window of verified chunks: runs of data chunks in one
    /// writev, a chunk of zeros as a hole (sparse files come back sparse).
    private func write(_ chunks: [[UInt8]], to file: inout OpenFile, job: FileJob, stop: FailedFile?) throws {
        try stop?.check(job.index)
        let node = job.node, display = job.display, fd = file.new.fd
        let bytes = chunks.reduce(0) { $0 + UInt64($1.count) }
        guard file.written + bytes <= node.size else { throw CairnError.other(Self.overlong(node)) }
        var start = 0
        for (i, chunk) in chunks.enumerated() where Self.isZero(chunk) {
            try writeAll(fd, chunks[start..<i], path: display)
            guard lseek(fd, off_t(chunk.count), SEEK_CUR) >= 0 else { throw CairnError.io("cannot seek in \(display): \(FileMetadata.errorText())") }
            start = i + 1
        }
        try writeAll(fd, chunks[start...], path: display)
        if !chunks.isEmpty { file.endsInHole = start == chunks.count }
        file.written += bytes
        progress.update { $0.bytesDone += bytes }
    }

    /// Checks the length, sets the metadata and names the file.
    private func finishFile(_ file: OpenFile, job: FileJob) throws -> FileOutcome {
        let node = job.node, display = job.display, fd = file.new.fd, dir = job.directory
        do {
            guard file.written == node.size else { throw CairnError.other("restored \(file.written) bytes, snapshot records \(node.size)") }
            // Sets the length when the file ends in a hole.
            if file.endsInHole {
                guard ftruncate(fd, off_t(file.written)) == 0 else { throw CairnError.io("cannot set the length of \(display): \(FileMetadata.errorText())") }
            }
        } catch {
            throw discard(file, job: job, error)
        }
        // What the new file already has: owner and mode calls that would change nothing are skipped.
        var st = stat()
        let current = fstat(fd, &st) == 0 ? st : nil
        let failures = DirectoryHandle.setMetadata(fd: fd, uid: job.owner?.uid ?? 0, gid: job.owner?.gid ?? 0, setOwner: job.owner != nil,
                                                   mode: node.mode, xattrs: node.xattrs, mtime: Self.timespec(node.mtime), current: current)
        let replaced: String?
        do { replaced = try dir.commit(file.new, as: node.name, display: display) } catch {
            close(fd)
            throw failure(job, error)
        }
        close(fd)
        progress.update { $0.filesDone += 1 }
        return FileOutcome(bytes: node.size, warnings: failures.map { "\(display): \($0)" } + (replaced.map { [$0] } ?? []),
                           device: UInt64(current?.st_dev ?? 0), inode: UInt64(current?.st_ino ?? 0))
    }
}
