import ArgumentParser
import CairnEngine
import CairnRepository
import CairnOps
import Foundation

struct RepairCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Repair damage that 'cairn scrub' found.",
        subcommands: [Blobs.self, Snapshots.self],
        defaultSubcommand: Blobs.self)

    /// Runs a full read-data scrub: repair needs to know every damaged blob.
    static func scrub(_ repo: Repository, showProgress: Bool) async throws -> ScrubReport {
        var o = ScrubOptions()
        o.readData = true
        let checker = Checker(repo: repo, options: o)
        return try await ProgressLine.showing(checker.progress, verb: "scrubbing", enabled: showProgress) { try await checker.run() }
    }

    /// Index damage is repaired first, by rebuilding the index from the packs'
    /// own headers: it loses nothing, and a blob a pack holds must never be
    /// treated as lost. Returns the scrub report of the repository after it.
    static func repairIndexFirst(_ repo: Repository, _ report: ScrubReport, options: RepositoryOptions) async throws -> ScrubReport {
        guard report.indexDamaged else { return report }
        let r = try await IndexRebuilder(repo: repo).rebuild()
        if !options.json {
            Terminal.out("index damage: rebuilt the index from the packs (\(r.reindexedPacks) pack(s) newly indexed, \(r.removedIndexObjects.count) unreadable index object(s) removed); nothing was lost")
        }
        for d in r.damagedPacks { Terminal.warn("unreadable pack \(d)") }
        return try await scrub(repo, showProgress: options.showProgress)
    }

    struct Blobs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "blobs",
            abstract: "Rewrite damaged or missing blobs into new packs (from the damaged pack where they still verify, else --from), then drop the damaged packs.")

        @OptionGroup var options: RepositoryOptions

        @Option(help: "Another repository holding the same data (a replica made by 'cairn copy', or any cairn repository: blobs are matched by id or re-chunked).")
        var from: String?

        @Option(help: "Passphrase file of --from (default: CAIRN_FROM_PASSWORD_FILE, CAIRN_FROM_PASSWORD, else this repository's passphrase).")
        var fromPasswordFile: String?

        @OptionGroup var lockOptions: LockOptions

        func run() async throws {
            // Repair rewrites the index and deletes packs: nothing else may run meanwhile.
            let (repo, lock) = try await options.openLocked(exclusive: true, operation: "repair", wait: lockOptions.seconds)
            try await lock.holding { try await repair(repo) }
        }

        func repair(_ repo: Repository) async throws {
            var report = try await RepairCommand.scrub(repo, showProgress: options.showProgress)
            let indexDamaged = report.indexDamaged
            report = try await RepairCommand.repairIndexFirst(repo, report, options: options)
            if report.isClean {
                if options.json {
                    Terminal.json(["repaired": 0, "index_rebuilt": indexDamaged ? 1 : 0])
                } else {
                    Terminal.out(indexDamaged ? "scrub after the index rebuild: clean" : "scrub found no damage: nothing to repair")
                }
                return
            }
            var source: Repository? = nil
            if let from {
                let env = ProcessInfo.processInfo.environment
                let pass: [UInt8]
                if fromPasswordFile != nil || env["CAIRN_FROM_PASSWORD_FILE"] != nil || env["CAIRN_FROM_PASSWORD"] != nil {
                    pass = try Passphrase.read(file: fromPasswordFile, envPrefix: "CAIRN_FROM", prompt: "Passphrase of \(from): ")
                } else {
                    pass = try options.passphrase()
                }
                source = try await Repository.open(store: try options.store(from), passphrase: pass, cacheBase: options.cacheBase(), warnings: TerminalWarnings())
            }
            let r = try await Repairer(repo: repo).repair(report: report, from: source)
            let after = try await Checker(repo: repo, options: ScrubOptions()).run()
            if options.json {
                Terminal.json(RepairJSON(salvaged: r.salvaged, fetched: r.fetched, rechunked: r.rechunked, unrecoverable: r.unrecoverable,
                                         dropped_unused: r.droppedUnused, dropped_packs: r.droppedPacks, clean_after: after.isClean))
            } else {
                var line = "repair: \(r.salvaged) blobs moved out of damaged packs"
                if let from { line += ", \(r.fetched) fetched from \(from), \(r.rechunked) re-chunked" }
                line += "; \(r.droppedPacks.count) damaged packs dropped"
                if r.droppedUnused > 0 { line += "; \(r.droppedUnused) damaged blobs no snapshot uses dropped with them" }
                Terminal.out(line)
                if !r.unrecoverable.isEmpty {
                    Terminal.out("\(r.unrecoverable.count) blob(s) exist nowhere: run 'cairn repair snapshots' to keep what survives restorable")
                }
                Terminal.out(after.isClean ? "scrub after repair: clean" : "scrub after repair: damage remains in \(after.affectedSnapshots.count) snapshot(s)")
            }
            if !after.isClean { throw CommandFailure.damage("damage remains after the repair in \(after.affectedSnapshots.count) snapshot(s): 'cairn scrub' names them") }
        }
    }

    struct Snapshots: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "snapshots",
            abstract: "Rewrite snapshots whose blobs exist nowhere: lost chunks become zeros of the same length (or the file is truncated at the last good byte), lost directories become empty; every loss is recorded in the snapshot.")

        @OptionGroup var options: RepositoryOptions
        @OptionGroup var lockOptions: LockOptions

        func run() async throws {
            let (repo, lock) = try await options.openLocked(exclusive: true, operation: "repair snapshots", wait: lockOptions.seconds)
            try await lock.holding { try await rewrite(repo) }
        }

        func rewrite(_ repo: Repository) async throws {
            var report = try await RepairCommand.scrub(repo, showProgress: options.showProgress)
            report = try await RepairCommand.repairIndexFirst(repo, report, options: options)
            let rewritten = try await SnapshotRepairer(repo: repo).repair(report: report)
            // The damaged packs leave the index too (what still verifies in them moved to new
            // packs first): the rewritten snapshots no longer use what was lost, so nothing is
            // kept for them, and the repaired repository scrubs clean.
            var dropped: Repairer.Result? = nil
            if report.dataDamaged {
                var rest = report
                let replaced = Set(rewritten.map(\.old.hex))
                rest.affected = report.affected.filter { !replaced.contains($0.snapshot) }
                dropped = try await Repairer(repo: repo).repair(report: rest, from: nil)
            }
            let after = try await Checker(repo: repo, options: ScrubOptions()).run()
            if options.json {
                Terminal.json(rewritten.map { RewrittenJSON(old: $0.old.hex, new: $0.new.hex, losses: $0.losses, losses_not_listed: $0.lossesNotListed) })
            } else {
                if rewritten.isEmpty { Terminal.out("no snapshot needs rewriting") }
                for r in rewritten {
                    Terminal.out("snapshot \(r.old.prefix(8)) rewritten as \(r.new.prefix(8)) (tagged 'repaired'):")
                    for (path, lost) in r.losses.sorted(by: { $0.key < $1.key }) { Terminal.out("  \(path): \(lost)") }
                    if r.lossesNotListed > 0 { Terminal.out("  ... and \(r.lossesNotListed) more paths (not listed)") }
                }
                if let d = dropped, !d.droppedPacks.isEmpty {
                    Terminal.out("\(d.droppedPacks.count) damaged pack(s) dropped from the index (\(d.salvaged) blobs that still verified moved out of them first)")
                }
                Terminal.out(after.isClean ? "scrub after repair: clean" : "scrub after repair: \(after.advice ?? "damage remains")")
            }
            if !after.isClean { throw CommandFailure.damage(after.advice ?? "damage remains after the repair: 'cairn scrub' names it") }
        }
    }
}

struct RepairJSON: Encodable {
    let salvaged: Int, fetched: Int, rechunked: Int, unrecoverable: [String], dropped_unused: Int, dropped_packs: [String], clean_after: Bool
}

struct RewrittenJSON: Encodable { let old: String, new: String, losses: [String: String], losses_not_listed: Int }
