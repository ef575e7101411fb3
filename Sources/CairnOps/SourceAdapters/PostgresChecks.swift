import CairnPlan
import CairnPostgres

/// The plan's `[[source.NAME.check]]`s of a PostgreSQL source, run after its drill restored it.
enum PostgresChecks {
    /// The plan rule of every PostgreSQL source: a connection string names no password.
    static let conninfoHasNoPassword: @Sendable (SourceSettings) -> [SourceDeclaration.Problem] = { settings in
        guard let d = settings.string("dbname"), d.contains("password") else { return [] }
        return [.init(key: "dbname", message: "must not hold a password: use a ~/.pgpass file or PGPASSFILE")]
    }

    /// Runs every check on a connection to its database (default `database`, else the source's `dbname`).
    static func run(_ s: PlanSource, plan: Plan, database: String? = nil, _ connect: (String) throws -> PGConnection) throws {
        let fallback = database ?? Conninfo.value(of: "dbname", in: s.dbname) ?? "postgres"
        for c in s.checks {
            let label = "check \(c.name.debugDescription) (\(plan.file):\(c.line))"
            let rows: [[String?]]
            do {
                rows = try connect(c.database ?? fallback).query(c.sql)
            } catch {
                throw DrillFailure("\(label) failed: \(error)")
            }
            let value = rows.first?.first ?? nil
            guard c.expect.holds(value: value, rowCount: rows.count) else {
                throw DrillFailure("\(label) expected \(c.expect) but got \(value.map { $0.debugDescription } ?? "no value") (\(rows.count) row(s))")
            }
        }
    }
}

extension PlanSource {
    /// pg-dump, pg-basebackup (required) and pg-wal (optional): the libpq connection string (no password).
    public var dbname: String? { settings.string("dbname") }
}
