import ArgumentParser

/// `cairn pg …`: PostgreSQL dumps, base backups, point-in-time restore and the WAL archive's health.
struct PgCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pg",
        abstract: "PostgreSQL: dumps, physical base backups, point-in-time restore, WAL archive checks (see Docs/postgres.md).",
        subcommands: [PgDumpCommand.self, PgRestoreDumpCommand.self, PgBaseBackupCommand.self, PgRestoreCommand.self,
                      PgWalCheckCommand.self, PgStatusCommand.self])
}
