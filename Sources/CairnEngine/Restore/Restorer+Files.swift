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

    /// Why `job` failed, naming its file (an error that already does is kept).
    func failure(_ job: FileJob, _ error: any Error) -> CairnError {
        if let e = error as? CairnError, case .restoreFailed = e { return e }
        return CairnError.restoreFailed(snapshot: String(record.id.prefix(8)), path: String(job.display.dropFirst()), reason: describe(error))
    }

    /// Creates the unnamed file for `job` (mode as the snapshot's where the
    /// file system gives unnamed files: nothing can open it before it is named),
    /// or the named one in a directory this restore made (`DirectoryHandle.newFile`).
    func openFile(_ job: FileJob, stop: FailedFile?) throws -> DirectoryHandle.NewFile {
        do {
            try stop?.check(job.index)
            return try job.directory.newFile(display: job.display, unnamedMode: job.node.mode & 0o777, named: job.node.name)
        } catch {
            throw failure(job, error)
        }
    }

    /// Closes and removes a file that failed; returns the error to throw.
    private func discard(_ file: DirectoryHandle.NewFile, job: FileJob, _ error: any Error) -> CairnError {
        job.directory.discard(file)
        return failure(job, error)
    }

    /// Checks the length (`written`: every byte handed over, holes
    /// included), sets the metadata and names the file.
    func finishFile(_ file: DirectoryHandle.NewFile, written: UInt64, job: FileJob) throws -> FileOutcome {
        let node = job.node, display = job.display, fd = file.fd, dir = job.directory
        // What the new file already has: owner and mode calls that would change nothing are skipped.
        var st = stat()
        var current = fstat(fd, &st) == 0 ? st : nil
        do {
            guard written == node.size else { throw CairnError.other("restored \(written) bytes, snapshot records \(node.size)") }
            // Sets the length when the file ends in a hole.
            if UInt64(max(0, current?.st_size ?? 0)) < node.size {
                guard ftruncate(fd, off_t(node.size)) == 0 else { throw CairnError.io("cannot set the length of \(display): \(FileMetadata.errorText())") }
                current?.st_size = off_t(node.size)
            }
        } catch {
            throw discard(file, job: job, error)
        }
        let failures = DirectoryHandle.setMetadata(fd: fd, uid: job.owner?.uid ?? 0, gid: job.owner?.gid ?? 0, setOwner: job.owner != nil,
                                                   mode: node.mode, xattrs: node.xattrs, mtime: Self.timespec(node.mtime), current: current)
        let replaced: String?
        do { replaced = try dir.commit(file, as: node.name, display: display) } catch {
            close(fd)
            throw failure(job, error)
        }
        close(fd)
        // The file is counted in the progress by the caller, with the others of its batch.
        return FileOutcome(bytes: node.size, warnings: failures.map { "\(display): \($0)" } + (replaced.map { [$0] } ?? []),
                           device: UInt64(current?.st_dev ?? 0), inode: UInt64(current?.st_ino ?? 0))
    }
}
