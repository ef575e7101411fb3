/// A check a drill runs against a restored PostgreSQL copy:
/// `[[source.db.check]] sql = "SELECT count(*) FROM users"  expect = "> 0"`.
public struct DrillCheck: Sendable, Equatable {
    public var sql: String
    public var expect: CheckExpectation
    /// The database to run it in (default: the one the dump holds).
    public var database: String?
    /// A name for reports (default: the SQL).
    public var name: String
    public var line: Int

    public init(sql: String, expect: CheckExpectation, database: String? = nil, name: String? = nil, line: Int = 0) {
        self.sql = sql; self.expect = expect; self.database = database; self.name = name ?? sql; self.line = line
    }
}

/// What the first column of the first row must be: `> 0`, `>= 100`, `= 3`,
/// `!= 0`, `< 5`, `<= 5`, `= 'ready'` (text), or `rows > 0` for the row count.
public struct CheckExpectation: Sendable, Equatable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable { case eq = "=", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">=" }
    public enum Operand: Sendable, Equatable { case number(Double), text(String) }

    public var op: Operator
    public var operand: Operand
    /// Compare the number of rows instead of the first value.
    public var rows: Bool
    public let source: String

    /// Parses an expectation; nil with a reason when it is not one.
    public static func parse(_ text: String) -> Result<CheckExpectation, ScheduleError> {
        var rest = Substring(text.trimmingLeadingAndTrailingSpaces)
        var rows = false
        if rest.hasPrefix("rows ") { rows = true; rest = rest.dropFirst(5).drop { $0 == " " } }
        let ops: [(String, Operator)] = [("==", .eq), ("!=", .ne), ("<>", .ne), ("<=", .le), (">=", .ge), ("=", .eq), ("<", .lt), (">", .gt)]
        guard let (token, op) = ops.first(where: { rest.hasPrefix($0.0) }) else {
            return .failure(.init("\(text.debugDescription) is not an expectation (like \"> 0\", \"= 3\", \"= 'ok'\", \"rows >= 1\")"))
        }
        let operandText = String(rest.dropFirst(token.count)).trimmingLeadingAndTrailingSpaces
        if operandText.count >= 2, operandText.hasPrefix("'"), operandText.hasSuffix("'") {
            guard !rows, op == .eq || op == .ne else { return .failure(.init("text can only be compared with = or !=")) }
            return .success(.init(op: op, operand: .text(String(operandText.dropFirst().dropLast())), rows: rows, source: text))
        }
        guard let n = Double(operandText) else {
            return .failure(.init("\(operandText.debugDescription) in \(text.debugDescription) is neither a number nor 'quoted text'"))
        }
        return .success(.init(op: op, operand: .number(n), rows: rows, source: text))
    }

    /// Whether `value` (the first column of the first row, nil for SQL NULL or no row) and `rowCount` satisfy it.
    public func holds(value: String?, rowCount: Int) -> Bool {
        let lhs: Operand
        if rows { lhs = .number(Double(rowCount)) } else {
            guard let value else { return false }
            if case .number = operand {
                guard let d = Double(value.trimmingLeadingAndTrailingSpaces) else { return false }
                lhs = .number(d)
            } else {
                lhs = .text(value)
            }
        }
        switch (lhs, operand) {
        case (.number(let a), .number(let b)):
            switch op { case .eq: return a == b; case .ne: return a != b; case .lt: return a < b; case .le: return a <= b; case .gt: return a > b; case .ge: return a >= b }
        case (.text(let a), .text(let b)):
            return op == .eq ? a == b : a != b
        default:
            return false
        }
    }

    public var description: String { source }
}

extension String {
    var trimmingLeadingAndTrailingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
