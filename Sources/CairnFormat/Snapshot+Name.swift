extension Snapshot {
    /// Whether `name` may name a new snapshot: not empty, not `.` or `..`, without `/` or NUL. A name is one
    /// path component wherever it appears as one (`cairn mount`'s `names/NAME/`, a restore's default target).
    /// Snapshots already stored are read whatever their name.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }
}
