import CairnFormat
import CairnRepository
import Synchronization

/// One file of a tree restore while the pack plan writes it. Its blobs come
/// in pack order, not file order, from several threads: it is created
/// unnamed on the first that needs writing, each blob is written at its own
/// offset, and whoever hands back its last planned blob closes it (names it
/// once its length is proven, or removes it after a failure). Every field
/// changes under one lock; the writes themselves run outside it, at
/// disjoint offsets.
final class RestoringFile: Sendable {
    let job: Restorer.FileJob

    struct State {
        /// Open once the first blob was written (or when it is closed).
        var file: DirectoryHandle.NewFile?
        /// Bytes of content handed over so far (zeros left as holes count).
        var written: UInt64 = 0
        /// Blobs planned and not yet written or dropped.
        var pending = 0
        /// Every blob of the content is planned (later plans add none).
        var planned = false
        /// Where the next planned blob goes (assigned in content order as plans are prepared).
        var nextOffset: UInt64 = 0
        /// Why the file cannot be restored, once known.
        var error: CairnError?
        /// Closed: its result was handed over.
        var closed = false
    }

    let state = Mutex(State())

    init(job: Restorer.FileJob) { self.job = job }

    /// Counts `count` more planned blobs.
    func add(_ count: Int) { state.withLock { $0.pending += count } }

    /// The offsets of `lengths.count` planned blobs, in content order.
    func offsets(_ lengths: [UInt32]) -> [UInt64] {
        state.withLock { s in
            lengths.map { length in
                defer { s.nextOffset += UInt64(length) }
                return s.nextOffset
            }
        }
    }

    /// No more blobs will be planned. The file is closed by whoever hands
    /// back its last blob, or by the sweep after its plan (`claimIfDone`).
    func finishPlanning() { state.withLock { $0.planned = true } }

    /// Records why the file fails (the first reason is kept).
    func fail(_ error: CairnError) {
        state.withLock { s in if s.error == nil { s.error = error } }
    }

    var error: CairnError? { state.withLock { $0.error } }

    /// `count` planned blobs are written or dropped; true when the caller
    /// must now close the file (the last of them, with the content planned).
    func release(_ count: Int) -> Bool {
        state.withLock { s in
            s.pending -= count
            return Self.claim(&s)
        }
    }

    /// True once for a file that is planned, has nothing pending and is not closed.
    func claimIfDone() -> Bool { state.withLock { Self.claim(&$0) } }

    /// Claims the file for closing regardless of what is pending (after the
    /// restore stopped and no writer is left); false when it was closed.
    func claimAbandoned() -> Bool {
        state.withLock { s in
            guard !s.closed else { return false }
            s.closed = true
            if s.error == nil { s.error = .other("the restore stopped before this file was written") }
            return true
        }
    }

    private static func claim(_ s: inout State) -> Bool {
        guard s.planned, s.pending <= 0, !s.closed else { return false }
        s.closed = true
        return true
    }

    /// The open file, created by `open` when there is none yet; nil once the
    /// file has failed (nothing more is written to it).
    func openedUnlessFailed(_ open: () throws -> DirectoryHandle.NewFile) throws -> DirectoryHandle.NewFile? {
        try state.withLock { s in
            guard s.error == nil else { return nil }
            if let f = s.file { return f }
            let f = try open()
            s.file = f
            return f
        }
    }

    /// Adds `bytes` written and releases `count` planned blobs (one lock for
    /// both: a small file is written by one call); true when the caller must
    /// now close the file, as `release`.
    func wrote(_ bytes: UInt64, releasing count: Int) -> Bool {
        state.withLock { s in
            s.written += bytes
            s.pending -= count
            return Self.claim(&s)
        }
    }

    /// The file as it is (for closing).
    var current: (file: DirectoryHandle.NewFile?, written: UInt64, error: CairnError?) { state.withLock { ($0.file, $0.written, $0.error) } }
}
