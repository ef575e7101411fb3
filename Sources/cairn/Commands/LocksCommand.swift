import ArgumentParser
import CairnEngine
import CairnRepository
import CairnFormat

struct LocksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "locks", abstract: "List the locks held on the repository, and which are stale.")

    @OptionGroup var options: RepositoryOptions

    func run() async throws {
        let repo = try await options.open()
        let m = LockManager(repo: repo)
        let now = Clock.nowNanos()
        let locks = try await m.list()
        if options.json {
            Terminal.json(locks.map { l in
                LockJSON(id: l.name, exclusive: l.exclusive, operation: l.record?.operation, host: l.record?.host, pid: l.record?.pid,
                         user: l.record?.user, started: l.record.map { Terminal.rfc3339($0.startNanos) },
                         refreshed: l.record.map { Terminal.rfc3339($0.refreshNanos) }, stale: m.staleReason(l, now: now), problem: l.problem)
            })
            return
        }
        if locks.isEmpty { Terminal.out("no locks"); return }
        for l in locks {
            let status = m.staleReason(l, now: now).map { "STALE: \($0)" } ?? "live"
            Terminal.out("\(l.name.prefix(12))  \(l.describe(now: now))  [\(status)]")
        }
        let stale = locks.filter { m.staleReason($0, now: now) != nil }.count
        Terminal.out("\(locks.count) lock(s), \(stale) stale" + (stale > 0 ? ": 'cairn unlock' removes the stale ones" : ""))
    }
}

struct LockJSON: Encodable {
    let id: String, exclusive: Bool, operation: String?, host: String?, pid: UInt32?, user: String?
    let started: String?, refreshed: String?, stale: String?, problem: String?
}

struct UnlockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unlock", abstract: "Remove stale locks (or, with --remove-all, every lock).")

    @OptionGroup var options: RepositoryOptions

    @Flag(help: "Remove every lock, live ones too: only when you know no other cairn process uses the repository.")
    var removeAll = false

    func run() async throws {
        let repo = try await options.open()
        let m = LockManager(repo: repo, notice: { if !options.json { Terminal.out($0) } })
        let n = removeAll ? try await m.removeAll() : try await m.removeStale().count
        let left = try await m.list().count
        if options.json {
            Terminal.json(["removed": n, "remaining": left])
        } else {
            Terminal.out("removed \(n) lock(s)" + (left > 0 ? "; \(left) live lock(s) remain ('cairn locks' shows them)" : ""))
        }
    }
}
