import ArgumentParser
import CairnEngine
import CairnRepository
import CairnFormat
import CairnOps
import CairnPlan
import Foundation

struct ScrubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scrub",
        abstract: "Check that every snapshot can be restored (exit 0 clean, 1 could not run, 4 damage found).")

    @OptionGroup var options: RepositoryOptions
    @OptionGroup var asOfOptions: AsOfOptions
    @OptionGroup var lockOptions: ReadLockOptions

    @Flag(help: "Also download packs and verify every blob (SHA-256 of pack and chunk, AES-GCM tag, zstd).")
    var readData = false

    @Option(help: "With --read-data: only slice n/t of the packs (e.g. 3/7), or a random share (e.g. 10%).")
    var readDataSubset: String?

    @Option(help: "With --read-data: stop reading packs after this long (e.g. 45m); progress is remembered.")
    var maxDuration: String?

    @Option(help: "With --read-data: skip packs verified within this period (e.g. 30d).")
    var maxAge: String?

    @Option(help: "Write Prometheus textfile-collector metrics to this file.")
    var metrics: String?

    func validate() throws {
        if let s = readDataSubset, ScrubOptions.parseSubset(s) == nil { throw ValidationError("--read-data-subset takes n/t (like 2/7) or a percentage (like 10%)") }
        if let d = maxDuration, PlanDuration.fractionalSeconds(d) == nil { throw ValidationError("--max-duration takes a duration like 45m or 2h") }
        if let d = maxAge, PlanDuration.fractionalSeconds(d) == nil { throw ValidationError("--max-age takes a duration like 30d") }
        if !readData && (readDataSubset != nil || maxDuration != nil || maxAge != nil) {
            throw ValidationError("--read-data-subset, --max-duration and --max-age go with --read-data")
        }
    }

    func run() async throws {
        let repo: Repository
        let past: PastRepository?
        do { past = try await asOfOptions.asOf.asyncMap { try await options.openPast($0) } } catch {
            if let metrics { try? PrometheusText.write(PrometheusMetrics.render(scrub: nil, now: Int(Date().timeIntervalSince1970)), to: metrics) }
            throw error
        }
        defer { past?.close() }
        do {
            if let past { repo = past.repository } else { repo = try await options.openForReading(operation: "scrub", lockOptions: lockOptions) }
        } catch {
            if let metrics { try? PrometheusText.write(PrometheusMetrics.render(scrub: nil, now: Int(Date().timeIntervalSince1970)), to: metrics) }
            throw error
        }
        var o = ScrubOptions()
        o.readData = readData
        o.subset = readDataSubset.flatMap(ScrubOptions.parseSubset) ?? .all
        o.maxDurationSeconds = maxDuration.flatMap(PlanDuration.fractionalSeconds)
        o.maxAgeSeconds = maxAge.flatMap(PlanDuration.fractionalSeconds)
        let checker = Checker(repo: repo, options: o)
        let report = try await ProgressLine.showing(checker.progress, verb: "verifying", enabled: options.showProgress && readData) {
            try await checker.run()
        }
        if let metrics { try PrometheusText.write(PrometheusMetrics.render(scrub: report, now: Int(Date().timeIntervalSince1970)), to: metrics) }
        if options.json {
            Terminal.json(ScrubJSON(report))
        } else {
            print(report)
        }
        if !report.isClean {
            if !report.dataDamaged && !report.indexDamaged && !report.replayedSnapshots.isEmpty {
                throw CommandFailure.damage("\(report.replayedSnapshots.count) forgotten snapshot(s) are in the store again (replayed?): run 'cairn prune' (exit \(ExitStatus.damage))")
            } else if report.dataDamaged && report.affectedSnapshots.isEmpty {
                throw CommandFailure.damage("damage found, but no snapshot uses what is lost: run 'cairn repair' (exit \(ExitStatus.damage))")
            } else if report.dataDamaged {
                throw CommandFailure.damage("damage found: \(report.affectedSnapshots.count) snapshot(s) cannot be fully restored (exit \(ExitStatus.damage))")
            } else {
                throw CommandFailure.damage("index damage found: run 'cairn index rebuild --read-packs' (no data lost; exit \(ExitStatus.damage))")
            }
        }
    }

    private func print(_ r: ScrubReport) {
        for o in r.objectProblems { Terminal.out("damaged object \(o.object): \(o.problem)") }
        for s in r.replayedSnapshots {
            Terminal.out("replayed snapshot \(s.snapshot.prefix(12)): removed by 'cairn forget' (\(Terminal.rfc3339(s.forgottenNanos))) but in the store again; ignored, 'cairn prune' removes it")
        }
        for p in r.packProblems { Terminal.out("damaged pack \(p.pack): \(p.problem)") }
        for b in r.blobProblems.prefix(50) { Terminal.out("damaged \(b.type) blob \(b.blob)\(b.pack.map { " in pack \($0.prefix(12))" } ?? ""): \(b.problem)") }
        if r.blobProblems.count > 50 { Terminal.out("... and \(r.blobProblems.count - 50) more damaged blobs (see --json)") }
        // Index damage by pack (the blobs are in --json): each such pack is whole and readable.
        let unindexedPacks = Dictionary(grouping: r.unindexedBlobs, by: { $0.pack ?? "" })
        for (pack, blobs) in unindexedPacks.sorted(by: { $0.key < $1.key }) {
            Terminal.out("unindexed pack \(pack.prefix(12)): holds \(blobs.count) blob(s) that snapshots use, but no readable index object names it (index damage)")
        }
        for a in r.affected {
            let ranges = a.ranges.isEmpty ? "everything below it" : a.ranges.map { $0.upperBound == UInt64.max ? "bytes \($0.lowerBound)-end" : "bytes \($0.lowerBound)-\($0.upperBound)" }.joined(separator: ", ")
            Terminal.out("breaks snapshot \(a.snapshot.prefix(8)) (\(EscapedText.escape(a.name))) \(a.path): \(ranges)")
        }
        for (id, n) in r.affectedNotListed.sorted(by: { $0.key < $1.key }) {
            Terminal.out("breaks snapshot \(id.prefix(8)) at \(n) more paths (not listed)")
        }
        let idle = r.orphanPacks.filter { unindexedPacks[$0] == nil }.count
        if idle > 0 { Terminal.out("note: \(idle) pack(s) not named by any index object and holding nothing a snapshot uses (left by an interrupted backup; not damage)") }
        var summary = "checked \(r.snapshotsChecked) snapshots, \(r.packsChecked) packs"
        if r.packsRead > 0 || r.packsSkippedRecent > 0 {
            summary += "; read \(r.packsRead) packs (\(Terminal.bytes(r.bytesVerified)), \(r.blobsVerified) blobs verified)"
            if r.packsSkippedRecent > 0 { summary += ", \(r.packsSkippedRecent) skipped as recently verified" }
        }
        if !r.complete { summary += "; stopped early by --max-duration (the next run continues)" }
        summary += String(format: " in %.1f s", r.seconds)
        Terminal.out(summary)
        Terminal.out(r.advice ?? "no damage found")
    }
}

struct ScrubJSON: Encodable {
    struct Affected: Encodable { let snapshot: String, name: String, path: String, ranges: [[UInt64]], whole_entry: Bool, blobs: [String] }
    struct PackProblem: Encodable { let pack: String, problem: String, blobs: [String] }
    struct BlobProblem: Encodable { let blob: String, type: String, pack: String?, problem: String }
    struct ObjectProblem: Encodable { let object: String, problem: String }
    let clean: Bool, complete: Bool, snapshots_checked: Int, packs_checked: Int, packs_read: Int, packs_skipped_recent: Int
    let blobs_verified: Int, bytes_verified: UInt64, seconds: Double
    let damaged_objects: [ObjectProblem], damaged_packs: [PackProblem], damaged_blobs: [BlobProblem], affected: [Affected]
    let affected_snapshots: [String], orphan_packs: [String]
    let index_damage: Bool, unindexed_blobs: [BlobProblem], snapshots_needing_index_rebuild: [String], advice: String?
    /// Damaged paths beyond the listing limit, by snapshot.
    let affected_not_listed: [String: UInt64]
    struct Replayed: Encodable { let snapshot: String, forgotten: String }
    let replayed_snapshots: [Replayed]

    init(_ r: ScrubReport) {
        clean = r.isClean; complete = r.complete; snapshots_checked = r.snapshotsChecked; packs_checked = r.packsChecked
        packs_read = r.packsRead; packs_skipped_recent = r.packsSkippedRecent; blobs_verified = r.blobsVerified
        bytes_verified = r.bytesVerified; seconds = r.seconds
        damaged_objects = r.objectProblems.map { .init(object: $0.object, problem: $0.problem) }
        damaged_packs = r.packProblems.map { .init(pack: $0.pack, problem: $0.problem, blobs: $0.blobs) }
        damaged_blobs = r.blobProblems.map { .init(blob: $0.blob, type: $0.type, pack: $0.pack, problem: $0.problem) }
        affected = r.affected.map { .init(snapshot: $0.snapshot, name: $0.name, path: $0.path,
                                          ranges: $0.ranges.map { [$0.lowerBound, $0.upperBound] }, whole_entry: $0.ranges.isEmpty, blobs: $0.blobs) }
        affected_snapshots = r.affectedSnapshots.sorted(); orphan_packs = r.orphanPacks
        index_damage = r.indexDamaged
        unindexed_blobs = r.unindexedBlobs.map { .init(blob: $0.blob, type: $0.type, pack: $0.pack, problem: $0.problem) }
        snapshots_needing_index_rebuild = r.snapshotsNeedingIndexRebuild.sorted(); advice = r.advice
        affected_not_listed = r.affectedNotListed
        replayed_snapshots = r.replayedSnapshots.map { .init(snapshot: $0.snapshot, forgotten: Terminal.rfc3339($0.forgottenNanos)) }
    }
}
