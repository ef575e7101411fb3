/// One problem in a plan file: `cairn.toml:12: source.database.rpo: "26x" is not a duration (like 26h)`.
public struct PlanIssue: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    /// The dotted key the problem is about (empty for syntax errors).
    public var key: String
    public var message: String

    public init(file: String, line: Int, key: String, message: String) {
        self.file = file; self.line = line; self.key = key; self.message = message
    }

    public var description: String { "\(file):\(line): " + (key.isEmpty ? "" : "\(key): ") + message }
}

/// A plan that cannot be used: every problem found, in file order.
public struct PlanError: Error, Sendable, CustomStringConvertible {
    public var issues: [PlanIssue]
    public init(_ issues: [PlanIssue]) { self.issues = issues.sorted { ($0.line, $0.key) < ($1.line, $1.key) } }
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
