import CairnFormat
import CairnRepository
import CLinuxShims
import CairnStorage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

extension Restorer {
    /// Restores the snapshot (or only the paths under `include`) into `target`.
    ///
    /// Everything is written through directory descriptors (`DirectoryHandle`):
    /// each directory is opened relative to its parent without following links,
    /// each file is written unnamed (or under a random name nothing can
    /// predict) and named only once every chunk was verified, and metadata is
    /// set on descriptors. A link in the target where the snapshot has a
    /// directory is replaced, never followed; a directory where the snapshot
    /// has a file is refused. Warnings say what was replaced.
    ///
    /// File content is restored pack by pack (`RestorePlan`): the walk adds
    /// the files' chunks to a plan; a full plan is looked up in the index in
    /// one pass, each pack's needed blobs read in one span (one request on a
    /// remote store), each blob opened once and written to every file and
    /// offset that needs it, on `writerThreads` threads; up to `plansInFlight`
    /// plans at once, `packsInFlight` spans each. Files are not synced one by one: a
    /// marker (`RestoreMarker`) says the restore is incomplete until one
    /// `syncfs` at the end made everything durable. A directory's metadata is
    /// set once its last entry is in place (its mtime would move with every
    /// entry added). The walk is iterative: memory grows linearly with depth,
    /// and at most `openDirectories` descriptors of the current path stay open.
    ///
    /// Failures are reported as a one-at-a-time restore would: the first
    /// failing file in walk order. When a file fails, files after it stop
    /// (their temporary files removed), files before it run to their end; the
    /// marker stays.
    public func restore(to target: String, include: [String] = []) async throws -> Result {
        try await restore(into: try DirectoryHandle.openTarget(target), includeComponents: include.map { $0.split(separator: "/").map { Array($0.utf8) } }, display: target)
    }

    /// The same with each include path as raw name components (names need not be UTF-8).
    public func restore(to target: String, includeComponents: [[[UInt8]]]) async throws -> Result {
        try await restore(into: try DirectoryHandle.openTarget(target), includeComponents: includeComponents, display: target)
    }

    /// `restore(to:include:)` into a directory already open (`display` names it in messages).
    public func restore(into root: DirectoryHandle, include: [String] = [], display target: String = "the target") async throws -> Result {
        try await restore(into: root, includeComponents: include.map { $0.split(separator: "/").map { Array($0.utf8) } }, display: target)
    }

    /// `restore(to:includeComponents:)` into a directory already open.
    public func restore(into root: DirectoryHandle, includeComponents: [[[UInt8]]], display target: String = "the target") async throws -> Result {
        let rootTree = try await tree(record.snapshot.root, path: "/")
        if rootTree.node(named: RestoreMarker.name) != nil {
            throw CairnError.invalidArgument("snapshot \(record.id.prefix(8)) holds a top-level entry named \(String(decoding: RestoreMarker.name, as: UTF8.self)), the name restore gives its incomplete-restore marker: restore it with --tar instead")
        }
        let (marker, earlier) = try RestoreMarker.begin(in: root, snapshot: record.id.hex, target: target)
        var walk = TreeWalk(includes: includeComponents, root: root, owner: owner, threads: writerThreads, spans: packsInFlight,
                            limits: RestorePlan.fitted(planLimits, openFiles: Self.openFileLimit, plans: plansInFlight, walkDescriptors: Self.openDirectories))
        if earlier { walk.result.warnings.append("\(target): an earlier restore into this directory did not finish; restoring over what it left") }
        let stop = FailedFile()
        var walkError: (any Error)? = nil
        await withTaskGroup(of: [FileResult].self) { group in
            do {
                try await walkTree(rootTree, walk: &walk, group: &group, stop: stop)
            } catch is StopWalk {
            } catch {
                walkError = error
            }
            while let done = await group.next() { absorb(done, into: &walk, stop: stop) }
        }
        // Files a stopped walk left open (no plan runs any more).
        for file in walk.plan.files { abandon(file) }
        if let failure = walk.failure { throw failure.error }
        if let walkError { throw walkError }
        try marker.finish(target: target)
        return walk.result
    }

    private func absorb(_ results: [FileResult], into walk: inout TreeWalk, stop: FailedFile) {
        walk.running -= 1
        for done in results { absorb(done, into: &walk, stop: stop) }
    }

    private func absorb(_ done: FileResult, into walk: inout TreeWalk, stop: FailedFile) {
        let index: Int, directory: Int
        switch done {
        case .restored(let i, let d, let outcome):
            (index, directory) = (i, d)
            walk.result.files += 1
            walk.result.bytes += outcome.bytes
            walk.result.warnings += outcome.warnings
            if let key = walk.firstTasks.removeValue(forKey: i) {
                walk.firsts[key]?.file = (outcome.device, outcome.inode)
                walk.firsts[key]?.task = nil
            }
        case .failed(let i, let d, let error):
            (index, directory) = (i, d)
            if walk.failure.map({ i < $0.index }) ?? true { walk.failure = (i, error) }
            stop.record(i)
            if let key = walk.firstTasks.removeValue(forKey: i) { walk.firsts[key] = nil }
        }
        walk.inFlight[index] = nil
        let left = (walk.pendingFiles[directory] ?? 1) - 1
        walk.pendingFiles[directory] = left == 0 ? nil : left
        if left == 0, let w = walk.waiting.removeValue(forKey: directory), walk.failure == nil {
            walk.result.warnings += finishDirectory(w.node, handle: w.handle, walk: walk).map { "\(w.display): \($0)" }
        }
    }

    /// Restores every entry of the tree through `TreeWalker` (the one tree walk), then waits for the files.
    private func walkTree(_ rootTree: Tree, walk: inout TreeWalk, group: inout TaskGroup<[FileResult]>, stop: FailedFile) async throws {
        let root = Level(handle: walk.root, identity: (walk.root.device, walk.root.inode), node: nil, id: 0, whole: walk.includes.isEmpty)
        try await TreeWalker.walk(nodes: rootTree.nodes, root: root, visit: { path, node, levels in
            try await restoreEntry(node, path: path, levels: &levels, walk: &walk, group: &group, stop: stop)
        }, leave: { path, done, levels in
            try leaveDirectory(done, path: path, levels: &levels, walk: &walk)
        })
        try await dispatchPlan(walk: &walk, group: &group, stop: stop)
        while walk.running > 0, let done = await group.next() { absorb(done, into: &walk, stop: stop) }
        guard walk.failure == nil else { throw StopWalk() }
    }

    /// Restores one entry (`path` below the target, raw) into its directory, the last of
    /// `levels`; returns the directory it names (made, its tree loaded) for the walk to go into.
    private func restoreEntry(_ node: Node, path rawPath: [UInt8], levels: inout [Level], walk: inout TreeWalk,
                              group: inout TaskGroup<[FileResult]>, stop: FailedFile) async throws -> (nodes: [Node], level: Level)? {
        let top = levels.count - 1
        var whole = levels[top].whole
        if !whole {
            let (take, descend) = Self.selected(levels.dropFirst().map(\.name) + [node.name], walk.includes)
            guard take || (descend && node.kind == .directory) else { return nil }
            whole = take
        }
        if whole { walk.result.selected += 1 }
        guard let dir = levels[top].handle else { throw CairnError.other("restore lost its place in the target") }
        // Names hold no "/" (Tree's decoder refuses them): the whole path escapes as its names do one by one.
        let path = EscapedText.escape(rawPath)
        switch node.kind {
        case .directory:
            let (sub, replaced) = try dir.subdirectory(node.name, display: path)
            if let replaced { walk.result.warnings.append(replaced) }
            var nodes: [Node] = []
            if let subtree = node.subtree { nodes = try await tree(subtree, path: path).nodes }
            walk.directoryIDs += 1
            // The new level is the deepest: the one `openDirectories` above it lets its descriptor go.
            if levels.count + 1 > Self.openDirectories { levels[levels.count - Self.openDirectories].handle = nil }
            return (nodes, Level(handle: sub, identity: (sub.device, sub.inode), node: node, id: walk.directoryIDs, whole: whole))
        case .symlink:
            var failures: [String] = []
            let replaced = try dir.makeSymlink(node.name, target: node.linkTarget, display: path) { name in
                failures = dir.setSymlinkMetadata(name, uid: walk.ids(node).uid, gid: walk.ids(node).gid, setOwner: walk.setOwner, xattrs: node.xattrs,
                                                  mtime: Self.timespec(node.mtime))
            }
            walk.result.warnings += failures.map { "\(path): \($0)" } + (replaced.map { [$0] } ?? [])
        case .fifo, .characterDevice, .blockDevice:
            do {
                let (replaced, failures) = try dir.makeSpecialFile(node, setOwner: walk.setOwner, mtime: Self.timespec(node.mtime), display: path)
                walk.result.warnings += failures.map { "\(path): \($0)" } + (replaced.map { [$0] } ?? [])
            } catch let e as CairnError {
                // A device node without the privilege to make it: the rest of the restore goes on.
                walk.result.warnings.append(e.description)
            }
        case .socket:
            // A socket is made by the program that listens on it, not by a restore (as restic and tar do).
            break
        case .file:
            try await restoreFile(node, path: path, in: dir, levels: levels, walk: &walk, group: &group, stop: stop)
        }
        return nil
    }

    /// A file: a hard link to the first copy of its inode when it was one, else added to the plan.
    private func restoreFile(_ node: Node, path: String, in dir: DirectoryHandle, levels: [Level], walk: inout TreeWalk,
                             group: inout TaskGroup<[FileResult]>, stop: FailedFile) async throws {
        guard let level = levels.last else { return }
        let key = node.inode != 0 ? HardLinkKey(device: node.device, inode: node.inode) : nil
        if let key, walk.firsts[key] != nil {
            // Entries that shared an inode when backed up were hard links: link to the first copy once it is written.
            if let t = walk.firsts[key]?.task, walk.plan.files.contains(where: { $0.job.index == t }) {
                try await dispatchPlan(walk: &walk, group: &group, stop: stop)
            }
            while let t = walk.firsts[key]?.task, walk.inFlight[t] != nil, let done = await group.next() {
                absorb(done, into: &walk, stop: stop)
            }
            guard walk.failure == nil else { throw StopWalk() }
            if try link(node, path: path, in: dir, identity: level.identity, key: key, walk: &walk) { return }
            // Not linkable (the file system's link limit, say): a copy of its own, which later links use.
        }
        guard walk.failure == nil else { throw StopWalk() }
        let index = walk.started, directory = level.id
        walk.started += 1
        walk.inFlight[index] = directory
        walk.pendingFiles[directory, default: 0] += 1
        if let key {
            walk.firsts[key] = FirstCopy(components: levels.dropFirst().map(\.name) + [node.name], directory: level.identity, task: index)
            walk.firstTasks[index] = key
        }
        let job = FileJob(node: node, directory: dir, display: path, index: index, directoryID: directory,
                          owner: walk.setOwner ? walk.ids(node) : nil)
        try await plan(RestoringFile(job: job), walk: &walk, group: &group, stop: stop)
    }

    /// A directory whose entries have all been started: its parent's descriptor reopened
    /// (through "..", checked) if it was let go, and its metadata set now or, while its
    /// files are still being written, by the last of them (`absorb`).
    private func leaveDirectory(_ done: Level, path rawPath: [UInt8], levels: inout [Level], walk: inout TreeWalk) throws {
        guard let node = done.node, let handle = done.handle else { return }
        let path = EscapedText.escape(rawPath)
        if let up = levels.indices.last, levels[up].handle == nil {
            let parent = rawPath[..<(rawPath.lastIndex(of: 0x2F) ?? rawPath.startIndex)]
            levels[up].handle = try handle.parent(expected: levels[up].identity, display: parent.isEmpty ? "/" : EscapedText.escape(Array(parent)))
        }
        walk.result.directories += 1
        if walk.pendingFiles[done.id] == nil {
            walk.result.warnings += finishDirectory(node, handle: handle, walk: walk).map { "\(path): \($0)" }
        } else {
            walk.waiting[done.id] = (node, handle, path)
        }
    }

    /// Adds `file`'s content to the plan (list blobs expanded as the walk
    /// reaches them), starting each plan that fills up; a file whose list
    /// blobs cannot be read fails (naming it), the walk goes on.
    private func plan(_ file: RestoringFile, walk: inout TreeWalk, group: inout TaskGroup<[FileResult]>, stop: FailedFile) async throws {
        walk.plan.add(file)
        do {
            try await ListExpander.expand(file.job.node.content, readList: { [repo] in try await repo.readBlob(.list, $0) }, data: { ids in
                var rest = ids[...]
                while !rest.isEmpty {
                    let take = rest.prefix(max(1, walk.limits.blobs - walk.plan.blobs))
                    rest = rest.dropFirst(take.count)
                    file.add(take.count)
                    walk.plan.add(file)
                    walk.plan.runs.append(RestorePlan.Run(file: file, ids: Array(take)))
                    walk.plan.blobs += take.count
                    if walk.plan.isFull(walk.limits) { try await dispatchPlan(walk: &walk, group: &group, stop: stop) }
                }
            })
        } catch let stopped as StopWalk {
            throw stopped
        } catch {
            file.fail(failure(file.job, error))
        }
        // In the plan being filled even without a run there: its sweep closes the file if no blob does.
        walk.plan.add(file)
        file.finishPlanning()
        if walk.plan.isFull(walk.limits) { try await dispatchPlan(walk: &walk, group: &group, stop: stop) }
    }

    /// Prepares the plan being filled and starts it, once fewer than `plansInFlight` run.
    private func dispatchPlan(walk: inout TreeWalk, group: inout TaskGroup<[FileResult]>, stop: FailedFile) async throws {
        guard !walk.plan.isEmpty else { return }
        while walk.running >= max(1, plansInFlight), let done = await group.next() { absorb(done, into: &walk, stop: stop) }
        // A stopped walk leaves the plan to `abandon`.
        guard walk.failure == nil else { throw StopWalk() }
        let plan = walk.plan
        walk.plan = RestorePlan()
        let prepared = await prepare(plan)
        walk.running += 1
        group.addTask { [threads = walk.threads, slots = walk.slots] in await self.execute(prepared, stop: stop, threads: threads, slots: slots) }
    }

    /// Makes `node` a hard link to the first copy of its inode; false when it
    /// cannot be linked (then it is written as a copy).
    private func link(_ node: Node, path: String, in dir: DirectoryHandle, identity: (device: UInt64, inode: UInt64),
                      key: HardLinkKey, walk: inout TreeWalk) throws -> Bool {
        guard var first = walk.firsts[key], let file = first.file, first.links < linksPerFile,
              let name = first.components.last else { return false }
        var source: DirectoryHandle? = nil
        if first.directory == identity {
            source = dir
        } else {
            // From the target down, never following a link; the directory must still be the one written.
            var at: DirectoryHandle? = walk.root
            for c in first.components.dropLast() { at = try? at?.openSubdirectory(c, display: path) }
            if let at, at.device == first.directory.device, at.inode == first.directory.inode { source = at }
        }
        guard let source else { return false }
        let (linked, replaced) = try dir.hardLink(node.name, to: name, in: source, expected: file, display: path)
        guard linked else { return false }
        first.links += 1
        walk.firsts[key] = first
        walk.result.files += 1
        if let replaced { walk.result.warnings.append(replaced) }
        progress.update { $0.filesDone += 1 }
        return true
    }

    /// Sets a directory's metadata once its entries are in place.
    private func finishDirectory(_ node: Node, handle: DirectoryHandle, walk: TreeWalk) -> [String] {
        DirectoryHandle.setMetadata(fd: handle.fd, uid: walk.ids(node).uid, gid: walk.ids(node).gid, setOwner: walk.setOwner, mode: node.mode,
                                    xattrs: node.xattrs, mtime: Self.timespec(node.mtime))
    }

    private static func selected(_ rel: [[UInt8]], _ includes: [[[UInt8]]]) -> (take: Bool, descend: Bool) {
        if includes.isEmpty { return (true, true) }
        var descend = false
        for inc in includes {
            if rel.count >= inc.count && Array(rel.prefix(inc.count)) == inc { return (true, true) }
            if rel.count < inc.count && Array(inc.prefix(rel.count)) == rel { descend = true }
        }
        return (false, descend)
    }
}
