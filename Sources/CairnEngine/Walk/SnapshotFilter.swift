import CairnFormat
import CairnRepository
import CairnRetention
import Foundation

/// Which snapshots a command looks at: restic's `--host`, `--tag`, `--path`
/// (and Cairn's `--name`). Empty lists select everything.
public struct SnapshotFilter: Sendable {
    /// Any of these names.
    public var names: [String] = []
    /// Any of these hosts.
    public var hosts: [String] = []
    /// Every tag of any one list (restic: `--tag a,b --tag c` is a and b, or c).
    public var tags: [[String]] = []
    /// Every one of these paths among the snapshot's paths (restic's `--path`).
    public var paths: [String] = []

    public init(names: [String] = [], hosts: [String] = [], tags: [[String]] = [], paths: [String] = []) {
        self.names = names; self.hosts = hosts; self.tags = tags; self.paths = paths
    }

    public var isEmpty: Bool { names.isEmpty && hosts.isEmpty && tags.isEmpty && paths.isEmpty }

    public func matches(_ s: Snapshot) -> Bool {
        (names.isEmpty || names.contains(s.name)) && (hosts.isEmpty || hosts.contains(s.host))
            && (tags.isEmpty || tags.contains { list in list.allSatisfy { s.tags.contains($0) } })
            && paths.allSatisfy { p in s.paths.contains { Self.samePath($0, p) } }
    }

    /// Paths compare without trailing slashes (`/etc/` is `/etc`); a relative
    /// filter path also matches its absolute form from the current directory.
    static func samePath(_ recorded: String, _ wanted: String) -> Bool {
        if trimmed(recorded) == trimmed(wanted) { return true }
        guard !wanted.hasPrefix("/") else { return false }
        let cwd = FileManager.default.currentDirectoryPath
        return trimmed(recorded) == trimmed(wanted == "." ? cwd : cwd + "/" + wanted)
    }

    private static func trimmed(_ p: String) -> Substring {
        var s = Substring(p)
        while s.count > 1 && s.hasSuffix("/") { s = s.dropLast() }
        return s
    }

    /// The newest record of `records` (by time, then id), or nil.
    public static func newest(_ records: [SnapshotRecord]) -> SnapshotRecord? {
        records.max { ($0.snapshot.timeNanos, $0.id) < ($1.snapshot.timeNanos, $1.id) }
    }

    /// `records` grouped by `groupBy` (groups in key order, each oldest first);
    /// with `latest`, only each group's `latest` newest snapshots.
    public static func group(_ records: [SnapshotRecord], by groupBy: Retention.GroupBy,
                             latest: Int? = nil) -> [(key: Retention.GroupKey, records: [SnapshotRecord])] {
        var groups: [Retention.GroupKey: [SnapshotRecord]] = [:]
        for r in records {
            let s = r.snapshot
            let key = Retention.GroupKey(name: groupBy.contains(.name) ? s.name : nil, host: groupBy.contains(.host) ? s.host : nil,
                                         tags: groupBy.contains(.tags) ? s.tags.sorted() : nil)
            groups[key, default: []].append(r)
        }
        return groups.keys.sorted().map { key in
            var list = groups[key]!.sorted { ($0.snapshot.timeNanos, $0.id) < ($1.snapshot.timeNanos, $1.id) }
            if let latest { list = Array(list.suffix(max(0, latest))) }
            return (key, list)
        }
    }
}

extension Repository {
    /// The snapshots `filter` selects, in the index's order.
    public func snapshots(matching filter: SnapshotFilter) throws -> [SnapshotRecord] {
        // With --name, an indexed query per name: only the named snapshots are decoded, not the
        // whole history (a WAL archive commits a snapshot a minute; issue 16.1).
        guard !filter.names.isEmpty else { return try snapshots().filter { filter.matches($0.snapshot) } }
        var names = Set<String>(), records: [SnapshotRecord] = []
        for name in filter.names where names.insert(name).inserted {
            records += try snapshots(name: name).filter { filter.matches($0.snapshot) }
        }
        if names.count > 1 { records.sort { ($0.snapshot.timeNanos, $0.id) < ($1.snapshot.timeNanos, $1.id) } }
        return records
    }

    /// Resolves an id, a unique id prefix, or `latest`: the newest snapshot
    /// `filter` selects (ids and prefixes are looked up among all snapshots,
    /// as restic does).
    public func resolveSnapshot(_ spec: String, filter: SnapshotFilter) throws -> SnapshotRecord {
        guard spec == "latest", !filter.isEmpty else { return try resolveSnapshot(spec, name: filter.names.count == 1 ? filter.names[0] : nil) }
        guard let last = SnapshotFilter.newest(try snapshots(matching: filter)) else {
            throw CairnError.snapshotNotFound("latest (\(filter.description))")
        }
        return last
    }
}

extension SnapshotFilter: CustomStringConvertible {
    /// The options that select, e.g. `--host db1 --tag daily`.
    public var description: String {
        var parts: [String] = []
        parts += names.map { "--name \(EscapedText.escape($0))" }
        parts += hosts.map { "--host \(EscapedText.escape($0))" }
        parts += tags.map { "--tag \(EscapedText.escape($0.joined(separator: ",")))" }
        parts += paths.map { "--path \(EscapedText.escape($0))" }
        return parts.isEmpty ? "no filter" : parts.joined(separator: " ")
    }
}
