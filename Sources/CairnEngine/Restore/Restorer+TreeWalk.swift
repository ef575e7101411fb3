import CairnFormat
import CairnRepository
import CLinuxShims
import CairnStorage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// What one tree restore keeps while it walks: the directories of the current path, the files
// running, the first copies hard links link to.
extension Restorer {
    /// The process's limit on open descriptors, raised to the hard limit once.
    static let openFileLimit = Int(cairn_raise_open_file_limit())

    /// Descriptors of the current path kept open; directories above are
    /// reopened through ".." (and checked) when the walk climbs back.
    static let openDirectories = 48

    /// One directory of the current path, as the restore keeps it (`TreeWalker` holds its nodes).
    struct Level {
        /// Open while near the bottom of the path (nil above `openDirectories`).
        var handle: DirectoryHandle?
        let identity: (device: UInt64, inode: UInt64)
        /// The directory's own node (nil for the target).
        let node: Node?
        var name: [UInt8] { node?.name ?? [] }
        let id: Int
        /// Every entry below is selected (no include, or under one).
        let whole: Bool
    }

    /// The first restored copy of a backed-up inode, which later hard links link to.
    struct FirstCopy {
        /// Names from the target down to the file.
        let components: [[UInt8]]
        let directory: (device: UInt64, inode: UInt64)
        /// Set once the file is written.
        var file: (device: UInt64, inode: UInt64)?
        /// The walk order of the file task while it runs.
        var task: Int?
        var links = 0
    }

    /// State of one tree restore's walk.
    struct TreeWalk {
        let includes: [[[UInt8]]]
        let root: DirectoryHandle
        /// Where small files are written (`writerThreads`).
        let threads: BlockingThreads
        let setOwner: Bool
        let owner: (uid: UInt32, gid: UInt32)?
        var result = Result()
        /// Files started (their walk order) and still running.
        var started = 0
        var running = 0
        /// The first failed file in walk order.
        var failure: (index: Int, error: CairnError)?
        /// Running files: their directory, by walk order.
        var inFlight: [Int: Int] = [:]
        /// Running files per directory.
        var pendingFiles: [Int: Int] = [:]
        /// Directories the walk has left whose files are still being written.
        var waiting: [Int: (node: Node, handle: DirectoryHandle, display: String)] = [:]
        var firsts: [HardLinkKey: FirstCopy] = [:]
        /// Which inode a running file is the first copy of.
        var firstTasks: [Int: HardLinkKey] = [:]
        var directoryIDs = 0
        /// The plan being filled.
        var plan = RestorePlan()
        /// Spans held at once by all plans.
        let slots: SpanSlots
        /// When a plan is full (`planLimits` fitted to the open-file limit).
        let limits: RestorePlan.Limits

        init(includes: [[[UInt8]]], root: DirectoryHandle, owner: (uid: UInt32, gid: UInt32)?, threads: Int, spans: Int, limits: RestorePlan.Limits) {
            self.includes = includes; self.root = root; self.owner = owner; self.limits = limits
            slots = SpanSlots(spans)
            self.threads = BlockingThreads(threads: threads, label: "cairn.restore")
            setOwner = owner != nil || geteuid() == 0
        }

        /// The owner to give `node`.
        func ids(_ node: Node) -> (uid: UInt32, gid: UInt32) { owner ?? (node.uid, node.gid) }
    }


    /// Ends the walk once a file has failed: no more files are started.
    struct StopWalk: Error {}

    /// The walk order of the first failed file, read by the running files:
    /// those after it stop at their next window. An atomic, not a lock: every
    /// small file reads it on one of the writer threads, and a lock taken that
    /// often by eight threads on few cores is mostly waited for.
    final class FailedFile: Sendable {
        private let first = Atomic(Int.max)
        func record(_ index: Int) { _ = first.min(index, ordering: .relaxed) }
        /// Throws when a file before `index` has failed.
        func check(_ index: Int) throws {
            if first.load(ordering: .relaxed) < index { throw CancellationError() }
        }
    }
}
