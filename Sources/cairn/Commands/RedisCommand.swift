import ArgumentParser

/// `cairn redis …`: RDB snapshots of a Redis server.
struct RedisCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis",
        abstract: "Back up and restore Redis RDB snapshots (validated before they are committed).",
        subcommands: [RedisBackupCommand.self, RedisRestoreCommand.self])
}
