import CairnFormat
import CairnRepository
import CairnStorage
#if canImport(Glibc)
import Glibc
#endif

// The walk over the arguments: one node per entry, directories as trees, unchanged files by reference.
extension Archiver {

    /// A tree entry whose file content may still be in the pipeline (`slot`).
    struct Entry {
        var node: Node
        var slot: Int? = nil
    }

    /// - Parameters:
    ///   - relative: the path below the argument ("" for the argument itself), for `BackupOptions.exclude`.
    ///   - top: the one directory argument, into which `beforeCommit` may add files.
    func archive(path: BytePath, name: [UInt8], st: stat, parent: Node?, chunker: FastCDC,
                 relative: [UInt8] = [], top: Bool = false) async throws -> Entry? {
        guard let kind = FileMetadata.kind(st) else {
            skip("\(path): skipped (a file of unknown type)")
            return nil
        }
        var node = FileMetadata.node(name: name, kind: kind, st: st, names: &names)
        node.xattrs = FileMetadata.extendedAttributes(path)
        switch kind {
        case .fifo, .characterDevice, .blockDevice, .socket:
            // Recorded as what they are (type, device number, metadata), never opened.
            break
        case .symlink:
            guard let target = FileMetadata.readLink(path) else {
                skip("\(path): cannot read link: \(FileMetadata.errorText())"); return nil
            }
            node.linkTarget = target
        case .directory:
            guard let subtree = try await archiveDirectory(path: path, node: node, parent: parent, chunker: chunker, relative: relative, top: top) else {
                return nil
            }
            node.subtree = subtree
            directories += 1
        case .file:
            return try await archiveFile(path: path, name: name, st: st, node: node, parent: parent, chunker: chunker)
        }
        return Entry(node: node)
    }

    /// A directory's entries archived (unchanged files by reference to `parent`'s tree, excluded
    /// ones left out) and stored as a tree; nil when it cannot be read.
    private func archiveDirectory(path: BytePath, node: Node, parent: Node?, chunker: FastCDC, relative: [UInt8], top: Bool) async throws -> ChunkID? {
        guard let entries = FileMetadata.entries(path) else {
            skip("\(path): cannot read directory: \(FileMetadata.errorText())"); return nil
        }
        var parentTree: Tree? = nil
        if let p = parent, p.kind == .directory, let sub = p.subtree { parentTree = try await repo.loadTree(sub) }
        var children: [Entry] = []
        for e in entries {
            let childPath = path.appending(e)
            let childRelative = relative.isEmpty ? e : relative + [47] + e
            guard let cst = FileMetadata.lstat(childPath) else {
                // Gone between readdir and lstat: deleted while we walked, which is not an error.
                if errno != ENOENT { skip("\(childPath): cannot stat: \(FileMetadata.errorText())") }
                continue
            }
            if options.leavesOut(childPath, relative: childRelative, st: cst, topDevice: topDevice) { continue }
            if let c = try await archive(path: childPath, name: e, st: cst, parent: parentTree?.node(named: e), chunker: chunker,
                                         relative: childRelative) {
                children.append(c)
            }
        }
        if top, let hook = options.beforeCommit {
            // The walk is complete: the hook's files join this directory, byte for byte.
            let added = try await hook()
            hookRan = true
            addedExtra = added.extra
            for f in added.files {
                children.removeAll { $0.node.name == Array(f.name.utf8) }
                children.append(try await addedFile(f, like: node))
            }
        }
        return try await finishDirectory(children)
    }

    /// A file: by reference to `parent` when unchanged, else read through the pipeline (its
    /// slot in the entry); nil when it is gone or cannot be read (said in a warning).
    private func archiveFile(path: BytePath, name: [UInt8], st: stat, node: Node, parent: Node?, chunker: FastCDC) async throws -> Entry? {
        var node = node
        files += 1
        if !options.forceRead, let p = parent, p.kind == .file, p.size == node.size, p.mtime == node.mtime,
           p.ctime == node.ctime, p.inode == node.inode, try allPresent(p.content) {
            node.content = p.content
            unchanged += 1
            logical += node.size
            progress.update { $0.bytesDone += node.size; $0.filesDone += 1 }
            return Entry(node: node)
        }
        var source: SourceFile
        switch SourceFile.open(path, scanned: st) {
        case .file(let f): source = f
        case .gone:
            // Deleted after the scan, like an entry gone between readdir and lstat: not an error.
            files -= 1; return nil
        case .replaced(let what):
            files -= 1
            changedDuringBackup.append(path.jsonString)
            skip("\(path): replaced by \(what) after the scan; not saved")
            return nil
        case .failed(let reason):
            skip("\(path): cannot open: \(reason)"); files -= 1; return nil
        }
        defer { source.close() }
        var changes: [String] = []
        if !SourceFile.isSameFile(source.before, as: st) { changes.append("replaced by another file after the scan") }
        if !source.settle() { changes.append("written continuously while the backup waited to read it") }
        // The snapshot records the file as it was when reading started.
        let xattrs = node.xattrs
        node = FileMetadata.node(name: name, kind: .file, st: source.before, names: &names)
        node.xattrs = xattrs
        progress.update { $0.currentPath = path.description }
        let slot: Int
        do { slot = try await stream(fd: source.fd, chunker: chunker, path: path.description, small: node.size < 1 << 20) } catch let e as CairnError {
            skip(e.description); files -= 1; return nil
        }
        progress.update { $0.filesDone += 1 }
        // A writer changed the file while we read it: the copy may be torn.
        if let differs = source.changesSinceOpened(bytesRead: lastStreamBytes) {
            changes.append("\(differs.joined(separator: ", ")) differ before and after reading")
        }
        if !changes.isEmpty {
            changedDuringBackup.append(path.jsonString)
            warnings.append("\(path): changed while it was read (\(changes.joined(separator: "; "))); the snapshot holds what was read. Stop the writer or back up a filesystem snapshot")
        }
        return Entry(node: node, slot: slot)
    }

    /// Reports an entry that is not in the snapshot.
    func skip(_ warning: String) {
        warnings.append(warning)
        skipped += 1
    }

    /// A file the `beforeCommit` hook supplies, owned like its directory, mode 0600.
    func addedFile(_ f: BackupAdditions.File, like dir: Node) async throws -> Entry {
        guard let tmp = tmpfile() else { throw CairnError.io("cannot create a temporary file: \(FileMetadata.errorText())") }
        defer { fclose(tmp) }
        let fd = fileno(tmp)
        try writeAll(fd, f.bytes, path: "temporary file")
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw CairnError.io("cannot rewind a temporary file: \(FileMetadata.errorText())") }
        let now = Clock.nowNanos()
        let node = Node(name: Array(f.name.utf8), kind: .file, mode: 0o600, uid: dir.uid, gid: dir.gid, user: dir.user, group: dir.group,
                        mtimeNanos: now, ctimeNanos: now, size: UInt64(f.bytes.count))
        files += 1
        return Entry(node: node, slot: try await stream(fd: fd, chunker: try repo.chunker(profile: options.profile ?? ChunkerProfileName.file), path: f.name))
    }

    /// Completes file nodes whose chunks are in flight, then stores the tree.
    func finishDirectory(_ entries: [Entry]) async throws -> ChunkID {
        var nodes = entries.map(\.node)
        if entries.contains(where: { $0.slot != nil }) {
            try await drain()
            for (i, e) in entries.enumerated() {
                if let slot = e.slot { try await finishContent(of: &nodes[i], slot: slot) }
            }
        }
        return try await saver.saveMetadata(.tree, Tree(nodes: nodes).encoded())
    }

    func finishContent(of node: inout Node, slot: Int) async throws {
        guard var b = builders.removeValue(forKey: slot) else { return }
        let (lists, root) = b.finish()
        for l in lists { _ = try await saver.saveMetadata(.list, l.encodedListBlob()) }
        node.content = root
        node.size = b.size
        logical += b.size
    }

    /// True when every id the content names directly is in the index.
    /// One read transaction per file, not one per chunk (what it saves on an
    /// unchanged tree: Docs/performance.md).
    func allPresent(_ c: ContentRef) throws -> Bool {
        try !repo.index.contains(c.ids, type: c.level == 0 ? .data : .list).contains(false)
    }
}
