import CairnIndex
#if canImport(Glibc)
import Glibc
#endif

/// The background read-ahead of `wal-fetch`: keeps the spool filled with the segments after the one
/// PostgreSQL asked for, `jobs` at a time, with the repository opened once for the whole recovery.
///
/// It fetches consecutive segments of one timeline while the spool holds fewer than `capacity`, and
/// stops at the first segment the archive does not hold (the end of the archive or of the timeline:
/// `wal-fetch` asks the repository itself for that one, so "absent" is never decided from a stale
/// view), when the spool stops being its archive's, or when PostgreSQL has taken nothing for
/// `idleSeconds` with the spool full (recovery ended or paused: it then empties the spool). Each
/// segment is restored into a temporary file, checked against its snapshot's SHA-256 and renamed to
/// `NAME.SHA256`: a killed fetcher leaves only temporary files, which are never served.
public final class WALReadAhead: Sendable {
    public let archive: WALArchive
    public let spool: WALSpool
    public let identity: String
    public let capacity: Int
    public let jobs: Int
    public let idleSeconds: Double

    public init(archive: WALArchive, spool: WALSpool, identity: String, capacity: Int, jobs: Int, idleSeconds: Double) {
        self.archive = archive; self.spool = spool; self.identity = identity
        self.capacity = max(1, capacity); self.jobs = max(1, jobs); self.idleSeconds = idleSeconds
    }

    /// How a read-ahead ended.
    public struct Outcome: Sendable {
        public var fetched = 0
        public var failed: [String] = []
        public var reason = ""
    }

    /// Reads ahead from segment `first` until one of the stop conditions; `log` gets one line per event.
    public func run(from first: String, log: @escaping @Sendable (String) -> Void) async throws -> Outcome {
        guard let w = WALFileName(first), w.kind == .segment else { throw PostgresError.badWALName(first) }
        guard let row = try archive.lookup(first).last else {
            spool.setEndOfArchive(first)
            spool.setWindow(nil)
            return Outcome(fetched: 0, failed: [], reason: "\(first) is not in the archive")
        }
        let size = UInt64(max(0, row.size))
        guard size >= 1 << 20, size <= 1 << 30, size.nonzeroBitCount == 1 else {
            throw PostgresError.other("\(first) is archived with \(row.size) bytes, not a WAL segment size")
        }
        let planner = Planner(owner: self, timeline: w.timeline, next: w.segmentNumber(segmentSize: size), segmentSize: size)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<jobs {
                group.addTask {
                    while let (name, row) = await planner.next() {
                        let tmp = self.spool.path + "/.\(name).tmp.\(getpid())"
                        do {
                            try await self.archive.restoreSparse(row, into: tmp)
                            guard rename(tmp, self.spool.path + "/" + name + "." + row.sha256) == 0 else {
                                let e = String(cString: strerror(errno))
                                unlink(tmp)
                                throw PostgresError.other("cannot move \(name) into the spool: \(e)")
                            }
                            await planner.finished(name, ok: true)
                        } catch {
                            log("\(name): \(error)")
                            await planner.finished(name, ok: false)
                        }
                    }
                }
            }
        }
        var result = await planner.outcome
        result.reason = await planner.stopReason
        if await planner.atEnd { await lingerUntilTaken() }
        if await planner.idle { spool.removeAll() } else { spool.setWindow(nil) }
        return result
    }

    /// At the end of the archive: keeps the lock until PostgreSQL has taken what is spooled, or has
    /// taken nothing for `idleSeconds` (the target was reached before it): then empties the spool, so
    /// nothing stays behind in pg_wal after the recovery.
    private func lingerUntilTaken() async {
        var seen = Set(spool.entries().map(\.name))
        var lastTaken = ContinuousClock.now
        while !seen.isEmpty && spool.holds(identity: identity) {
            try? await Task.sleep(for: .milliseconds(100))
            let present = Set(spool.entries().map(\.name))
            if !seen.isSubset(of: present) { lastTaken = .now }
            seen = present
            if ContinuousClock.now - lastTaken > .milliseconds(Int64(idleSeconds * 1000)) {
                spool.removeAll()
                return
            }
        }
    }

    /// Hands out the next segment when the spool has room; decides when to stop.
    actor Planner {
        let owner: WALReadAhead
        let timeline: UInt32
        let segmentSize: UInt64
        var next: UInt64
        let first: String
        var inFlight = 0
        var outcome = Outcome()
        var stopReason = ""
        var idle = false
        var atEnd = false
        var pending: Set<String> = []
        var seen: Set<String> = []
        var lastTaken = ContinuousClock.now

        init(owner: WALReadAhead, timeline: UInt32, next: UInt64, segmentSize: UInt64) {
            self.owner = owner; self.timeline = timeline; self.next = next; self.segmentSize = segmentSize
            first = WALFileName.segment(timeline: timeline, number: next, segmentSize: segmentSize)
        }

        func name(_ n: UInt64) -> String { WALFileName.segment(timeline: timeline, number: n, segmentSize: segmentSize) }

        /// The next segment to fetch with its catalogue row, or nil when the read-ahead is over.
        func next() async -> (String, WALCatalogRow)? {
            while stopReason.isEmpty {
                guard owner.spool.holds(identity: owner.identity) else { stopReason = "the spool was emptied or taken over"; break }
                let present = Set(owner.spool.entries().map(\.name))
                // A segment seen in the spool and gone since: PostgreSQL took it (or passed it).
                if !seen.isSubset(of: present) { lastTaken = .now }
                seen = present
                if present.count + inFlight < owner.capacity {
                    let candidate = name(next)
                    if present.contains(candidate) { next += 1; continue }
                    let row: WALCatalogRow?
                    do { row = try owner.archive.lookup(candidate).last } catch {
                        stopReason = "cannot look up \(candidate): \(error)"; break
                    }
                    guard let row else {
                        stopReason = "\(candidate) is not in the archive (end of the archive or of timeline \(timeline))"
                        atEnd = true
                        owner.spool.setEndOfArchive(candidate)
                        publishWindow()
                        break
                    }
                    next += 1
                    inFlight += 1
                    pending.insert(candidate)
                    publishWindow()
                    return (candidate, row)
                }
                if ContinuousClock.now - lastTaken > .milliseconds(Int64(owner.idleSeconds * 1000)) {
                    stopReason = "nothing taken for \(Int(owner.idleSeconds)) s with the spool full (recovery over or paused)"
                    idle = true
                    break
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return nil
        }

        /// The segments still to come: from the lowest not yet in the spool to where it reads ahead
        /// (at the end of the archive: to the last segment planned). A segment before it (delivered,
        /// or never planned) is not waited for. At the end it still shrinks as the segments in flight
        /// arrive, to nothing once all have: the fetcher then lingers with the lock held
        /// (`lingerUntilTaken`), and a segment PostgreSQL reads again (the last one replayed, once it
        /// has read past the recovery target) must be before the window, fetched from the repository
        /// at once, not waited for until `wal-fetch` gives up on the spool.
        func publishWindow() {
            let last = atEnd ? name(next &- 1) : name(next &- 1 &+ UInt64(owner.capacity))
            owner.spool.setWindow(WALSpool.Window(first: pending.min() ?? name(next), last: last))
        }

        func finished(_ name: String, ok: Bool) {
            inFlight -= 1
            pending.remove(name)
            publishWindow()
            if ok { seen.insert(name); outcome.fetched += 1 } else { outcome.failed.append(name) }
            if !ok && stopReason.isEmpty { stopReason = "\(name) could not be fetched" }
        }
    }
}
