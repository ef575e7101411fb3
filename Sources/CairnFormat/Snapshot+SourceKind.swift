extension Snapshot {
    /// What a snapshot's root holds, recorded in its `source kind` string (format-spec §13). An open set:
    /// a reader keeps a kind it does not know (a newer writer's) as it is.
    public struct SourceKind: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
        public let rawValue: String

        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { rawValue = value }

        public var description: String { rawValue }

        /// Files and directories (`cairn backup PATH...`).
        public static let tree: SourceKind = "tree"
        /// One byte stream stored as a single file: standard input, a command's output, a dump, an RDB, a WAL file.
        public static let stream: SourceKind = "stream"
    }
}
