/// The kind of a store object in `snapshots/` the cache has loaded.
public enum SnapshotObjectKind: Int64, Sendable {
    /// One snapshot; its name is its id (format-spec §13).
    case single = 0
    /// A snapshot catalogue holding many (format-spec v2).
    case catalogue = 1
}

/// A store object in `snapshots/` the cache has loaded.
public struct LoadedSnapshotObject: Sendable, Equatable {
    public var name: String
    public var kind: SnapshotObjectKind
    /// Its size in the store, in bytes.
    public var size: Int64
    /// How many snapshots it holds (for this cache: forgotten ones are not counted).
    public var snapshots: Int
    /// Whether the cache holds every snapshot the object holds but forgotten
    /// ones: only such an object may be rewritten from the cache (merged, or
    /// rewritten without forgotten snapshots). An entry this Cairn cannot
    /// decode (a newer one's) makes it incomplete.
    public var complete: Bool

    public init(name: String, kind: SnapshotObjectKind, size: Int64, snapshots: Int, complete: Bool = true) {
        self.name = name; self.kind = kind; self.size = size; self.snapshots = snapshots; self.complete = complete
    }
}
