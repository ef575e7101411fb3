import CairnSystem
import CairnTar
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Copies `pg_basebackup`'s tar stream from one descriptor to another on its
/// own thread (the archiver reads the other end), parsing it on the way to
/// keep what the snapshot records: `backup_label` byte for byte, the size of
/// `tablespace_map`, the system identifier in `global/pg_control` and the
/// tail of `backup_manifest` (its `WAL-Ranges` give the stop LSN). Memory is
/// bounded by the copy buffer and those small captures.
final class BaseBackupTarTee: @unchecked Sendable {
    /// What the stream held, once it ended.
    struct Findings {
        var backupLabel: [UInt8]? = nil
        var tablespaceMapSize: UInt64 = 0
        var controlPrefix: [UInt8] = []
        var manifestTail: [UInt8] = []
        var sawManifest = false
        var error: Error? = nil
        var bytes: UInt64 = 0
    }

    static let labelLimit = 64 << 10
    static let manifestTailLimit = 64 << 10

    private let input: Int32
    private let output: Int32
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var result = Findings()

    /// Copies from `input` to `output`, both owned by the tee from here on: it closes them when the copy ends
    /// (at the end of the input, or early when the reader of `output` went away).
    init(input: Int32, output: Int32) { self.input = input; self.output = output }

    func start() {
        let t = Thread { [self] in
            let f = self.copy()
            self.lock.withLock { self.result = f }
            self.done.signal()
        }
        t.start()
    }

    /// Waits for the copy to end and returns what it found.
    func findings() async -> Findings {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { self.done.wait(); self.done.signal(); c.resume() }
        }
        return lock.withLock { result }
    }

    private func copy() -> Findings {
        var f = Findings()
        var reader = TarStreamReader()
        var member: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        defer { close(output); close(input) }
        while true {
            let n: Int
            do { n = try buf.withUnsafeMutableBytes { (b) in try FileDescriptorIO.read(input, into: b) } } catch {
                f.error = PostgresError.other("cannot read pg_basebackup's output: \(error)")
                break
            }
            if n == 0 { break }
            let chunk = buf[0..<n]
            if f.error == nil {
                do {
                    try reader.feed(chunk) { event in
                        switch event {
                        case .entry(let e): member = e.path; if e.path == Array("backup_manifest".utf8) { f.sawManifest = true }
                        case .data(let d):
                            if member == Array("backup_label".utf8) {
                                guard (f.backupLabel?.count ?? 0) + d.count <= Self.labelLimit else {
                                    throw PostgresError.other("backup_label in pg_basebackup's output is larger than \(Self.labelLimit) bytes")
                                }
                                f.backupLabel = (f.backupLabel ?? []) + d
                            } else if member == Array("tablespace_map".utf8) {
                                f.tablespaceMapSize += UInt64(d.count)
                            } else if member == Array("global/pg_control".utf8), f.controlPrefix.count < 8 {
                                f.controlPrefix += d.prefix(8 - f.controlPrefix.count)
                            } else if member == Array("backup_manifest".utf8) {
                                f.manifestTail += d
                                if f.manifestTail.count > 2 * Self.manifestTailLimit { f.manifestTail.removeFirst(f.manifestTail.count - Self.manifestTailLimit) }
                            }
                        case .entryEnd:
                            if member == Array("backup_label".utf8), f.backupLabel == nil { f.backupLabel = [] }
                            member = []
                        }
                    }
                } catch let e as PostgresError { f.error = e
                } catch { f.error = PostgresError.other("pg_basebackup's output is not a readable tar stream: \(error)") }
            }
            f.bytes += UInt64(n)
            if !writeAll(chunk) {  // the archiver stopped reading
                f.error = f.error ?? PostgresError.other("the snapshot stopped reading pg_basebackup's output")
                return f
            }
        }
        if f.error == nil {
            do { try reader.finish() } catch { f.error = PostgresError.other("pg_basebackup's output ended early: \(error)") }
        }
        return f
    }

    private func writeAll(_ chunk: ArraySlice<UInt8>) -> Bool {
        chunk.withUnsafeBytes { b in (try? FileDescriptorIO.writeAll(output, b)) != nil }
    }
}
