import CairnRepository
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The restore_command's side of the spool (`wal-fetch`, one process per file PostgreSQL asks for):
/// serves a segment from `WALSpool`, starting the background fetcher when none runs, waiting for it
/// while the segment is in its window, and restarting it when the spool runs low. A segment is only
/// ever served with the SHA-256 its snapshot recorded (`WALSpool.take`); whenever the spool cannot
/// answer (a damaged copy, a segment the fetcher found missing, a stopped fetcher, no delivery in
/// time), the answer is "not served" and the caller fetches from the repository, which alone may
/// say that a segment does not exist (PostgreSQL's restore_command contract).
public struct WALSpoolClient {
    public let spool: WALSpool
    /// What the spool's segments must come from (`identity(repositoryURL:walName:)`).
    public let identity: String
    /// The spool's capacity in segments (`--prefetch`): a stopped fetcher is restarted when fewer
    /// than half of it are ready ahead.
    public let prefetch: Int
    /// Seconds `serve` waits for the fetcher to deliver a segment before giving up on the spool.
    public let waitSeconds: Double
    /// Where warnings go (one line each, `wal-fetch NAME: …`).
    public let warn: (String) -> Void

    public init(spool: WALSpool, identity: String, prefetch: Int = 16, waitSeconds: Double = 60, warn: @escaping (String) -> Void = { _ in }) {
        self.spool = spool
        self.identity = identity
        self.prefetch = prefetch
        self.waitSeconds = waitSeconds
        self.warn = warn
    }

    /// What a spool's segments come from: a spool of another repository or WAL name is emptied.
    public static func identity(repositoryURL: String, walName: String) -> String { "repository \(repositoryURL) wal-name \(walName)" }

    /// The spool directory as an absolute path: `option` (`--spool`), else `$CAIRN_WAL_SPOOL`, else
    /// `.cairn-prefetch` beside `destination` (pg_wal/.cairn-prefetch).
    public static func spoolPath(option: String?, destination: String,
                                 environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let path: String
        if let option, !option.isEmpty {
            path = option
        } else if let s = environment["CAIRN_WAL_SPOOL"], !s.isEmpty {
            path = s
        } else {
            let dir = (destination as NSString).deletingLastPathComponent
            path = (dir.isEmpty ? "." : dir) + "/.cairn-prefetch"
        }
        return path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    // MARK: beside a running fetcher

    /// What `serveBesideRunningFetcher` did.
    public enum QuickResult: Sendable, Equatable {
        /// The segment is at its destination with its recorded SHA-256.
        case served
        /// The spool cannot answer without starting, waiting for or stopping a fetcher: `serve` can.
        case notServed
        /// The spooled copy was damaged (removed, nothing written): fetch from the repository, not the spool.
        case refused(String)
    }

    /// The common case without waiting or starting anything: serves segment `name` only when a
    /// fetcher of this archive runs and has it spooled (checked as `serve` checks it).
    public func serveBesideRunningFetcher(_ name: String, to destination: String) -> QuickResult {
        guard WALFileName(name)?.kind == .segment, spool.fetcherRunning(), spool.holds(identity: identity),
              spool.endOfArchive() != name else { return .notServed }
        spool.removeBefore(name, includingPartial: false)
        switch spool.take(name, to: destination) {
        case .served: return .served
        case .damaged(let why): return .refused(why)
        case .absent: return .notServed
        }
    }

    // MARK: the full protocol

    /// Serves segment `name` to `destination` from the spool, starting a fetcher with `fetcher` when
    /// none runs, and waiting for it while the segment is in its window. False: fetch it from the
    /// repository directly (the spool is damaged, the fetcher stopped without it, found it missing,
    /// reads another archive, or did not deliver it in time).
    public func serve(_ name: String, to destination: String, fetcher: some WALFetcherStarting) -> Bool {
        if let fd = spool.tryLock() {
            spool.adopt(identity: identity)
            spool.removeBefore(name, includingPartial: true)
            close(fd)
        } else {
            guard spool.holds(identity: identity) else { return false }  // a fetcher of another archive is still running
            spool.removeBefore(name, includingPartial: false)
        }
        // The fetcher found it missing: only the repository itself may say so (exit 1).
        if spool.endOfArchive() == name { return false }
        let deadline = ContinuousClock.now + .milliseconds(Int64(waitSeconds * 1000))
        var started = false
        while true {
            // Whether a fetcher runs is read before the spool: one that stops meanwhile has written what it fetched.
            let running = spool.fetcherRunning()
            switch spool.take(name, to: destination) {
            case .served:
                refill(after: name, at: destination, running: running, fetcher: fetcher)
                return true
            case .damaged(let why):
                warn("wal-fetch \(name): \(why)")
                return false
            case .absent:
                if spool.endOfArchive() == name { return false }
            }
            if !running {
                // The fetcher stopped without this segment (not in the archive, or it failed): ask the repository.
                if started { return false }
                if let fd = spool.tryLock() {
                    started = start(fetcher, lockFD: fd, from: name, for: name)
                    close(fd)
                    if !started { return false }
                }
            } else if let window = spool.window(), !window.contains(name) {
                // Before the window: delivered already and taken (PostgreSQL reads a segment again), or
                // older than the read-ahead: from the repository, the fetcher keeps going.
                if window.isAfter(name) { return false }
                // Beyond it or on another timeline (a jump, a timeline switch): restart the read-ahead there.
                if started { return false }
                spool.stopFetcher()
            }
            if ContinuousClock.now > deadline {
                // Its window says what it was still to deliver: the next time this happens, why it waited.
                let window = spool.window().map { "\($0.first) … \($0.last)" } ?? "none published"
                warn("wal-fetch \(name): the background fetcher did not deliver it within \(Int(waitSeconds)) s (its window: \(window); its messages: \(spool.path)/fetcher.log); stopping it and fetching directly")
                spool.stopFetcher()
                return false
            }
            usleep(5_000)
        }
    }

    /// After segment `name` came from the spool to `destination`: restarts the fetcher, from the next
    /// segment, when none runs and the spool is less than half full (unless the archive ends within it).
    private func refill(after name: String, at destination: String, running: Bool, fetcher: some WALFetcherStarting) {
        guard !running, !spool.fetcherRunning(), let w = WALFileName(name) else { return }
        var st = stat()
        guard stat(destination, &st) == 0, st.st_size >= 1 << 20 else { return }
        let size = UInt64(st.st_size)
        let next = WALFileName.segment(timeline: w.timeline, number: w.segmentNumber(segmentSize: size) + 1, segmentSize: size)
        let ahead = spool.entries().filter { $0.name > name }
        if ahead.count * 2 >= prefetch { return }
        if let end = spool.endOfArchive(), end > name, end.prefix(8) == name.prefix(8) { return }
        guard let fd = spool.tryLock() else { return }
        _ = start(fetcher, lockFD: fd, from: next, for: name)
        close(fd)
    }

    /// Starts `fetcher` from `first` with the lock `lockFD` holds; false (with a warning) when it could not start.
    private func start(_ fetcher: some WALFetcherStarting, lockFD: Int32, from first: String, for name: String) -> Bool {
        do {
            try fetcher.start(spool: spool, lockFD: lockFD, from: first)
            return true
        } catch {
            warn("wal-fetch \(name): cannot start the background fetcher (\(describe(error))); fetching from the repository")
            return false
        }
    }
}
