import CairnEngine
import CairnRepository
import CairnSystem
import CairnTar
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The byte stream a `--stdin` or `--stdin-from-command` backup reads:
/// standard input (sniffed for gzip/zstd/xz/bzip2, optionally decompressed by
/// the system's tool) or the output of a command cairn runs itself. `finish()`
/// runs before the snapshot commits and fails it when the decompressor or the
/// command failed.
final class StreamInput: @unchecked Sendable {
    /// What the archiver reads.
    let fd: Int32
    /// Bytes already read from `fd` (the sniffed start of standard input) that
    /// come before the rest of it.
    private(set) var prefix: [UInt8] = []
    /// Facts for the snapshot.
    private(set) var facts: [String: String] = [:]
    private var processes: [(Process, String)] = []
    private var feederDone: DispatchSemaphore?
    private let feeder = FeederState()

    /// The feeder thread's outcome.
    private final class FeederState: @unchecked Sendable {
        var error: String?
    }

    /// Standard input, sniffed; decompressed when asked and compressed.
    init(stdinDecompress decompress: Bool) throws {
        var prefix = [UInt8](repeating: 0, count: CompressionSniffer.prefixLength)
        let got: Int
        do { got = try prefix.withUnsafeMutableBytes { (b) in try FileDescriptorIO.readFull(0, into: b) } } catch {
            throw CairnError.io("cannot read standard input: \(error)")
        }
        prefix.removeSubrange(got...)
        let format = CompressionSniffer.detect(prefix)
        guard let format, decompress else {
            // Read standard input directly, the sniffed bytes handed over first:
            // no feeder thread copying every byte through a pipe.
            if let sniffed = format {
                facts["stdin.compression"] = sniffed.rawValue
                Terminal.warn("standard input is \(sniffed.rawValue)-compressed: compression defeats deduplication (each backup stores it all again); pipe it uncompressed, or add --decompress to store the decompressed stream")
            }
            fd = 0
            self.prefix = prefix
            return
        }
        // The decompressor reads standard input again, the sniffed bytes first, through a pipe.
        let (readEnd, writeEnd) = try Self.pipe()
        let done = DispatchSemaphore(value: 0)
        feederDone = done
        let sniffed = prefix
        let state = feeder
        let thread = Thread {
            let error = Self.copy(prefix: sniffed, from: 0, to: writeEnd)
            close(writeEnd)
            state.error = error
            done.signal()
        }
        thread.start()
        facts["stdin.compression"] = format.rawValue
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = format.decompressor
        p.environment = ChildEnvironment.build(for: .tool)
        p.standardInput = FileHandle(fileDescriptor: readEnd, closeOnDealloc: true)
        let out = Pipe()
        p.standardOutput = out
        do { try p.run() } catch {
            throw CairnError.io("cannot run \(format.decompressor[0]) to decompress standard input: \(error)")
        }
        close(readEnd)
        processes.append((p, format.decompressor.joined(separator: " ")))
        facts["stdin.decompressed"] = format.rawValue
        fd = out.fileHandleForReading.fileDescriptor
        outputPipe = out
    }

    /// The output of `command`, which cairn runs (standard input /dev/null, standard error passed through).
    init(command: [String]) throws {
        guard let first = command.first else { throw CairnError.invalidArgument("--stdin-from-command needs a command after --") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = command
        // The operator's command: its own service passwords stay, Cairn's passphrase and S3 credentials go.
        p.environment = ChildEnvironment.build(for: .userCommand)
        p.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        let out = Pipe()
        p.standardOutput = out
        do { try p.run() } catch { throw CairnError.io("cannot run \(first): \(error)") }
        processes.append((p, first))
        facts["command"] = (first as NSString).lastPathComponent
        fd = out.fileHandleForReading.fileDescriptor
        outputPipe = out
    }

    private var outputPipe: Pipe?

    /// Waits for the feeder and the processes; throws when one failed.
    func finish() throws -> [String: String] {
        feederDone?.wait()
        feederDone?.signal()
        if let error = feeder.error { throw CairnError.io("\(error); no snapshot was saved") }
        for (p, label) in processes {
            p.waitUntilExit()
            if p.terminationReason == .uncaughtSignal {
                throw CairnError.other("\(label) was killed by signal \(p.terminationStatus); no snapshot was saved")
            }
            if p.terminationStatus == 127 && facts["command"] != nil {
                throw CairnError.other("\(label): command not found; no snapshot was saved")
            }
            if p.terminationStatus != 0 {
                throw CairnError.other("\(label) exited with status \(p.terminationStatus); no snapshot was saved")
            }
        }
        return facts
    }

    private static func pipe() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw CairnError.io("cannot create a pipe: \(String(cString: strerror(errno)))") }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (fds[0], fds[1])
    }

    /// Writes `prefix`, then copies `from` to `to` until the end; returns an error text or nil.
    private static func copy(prefix: [UInt8], from: Int32, to: Int32) -> String? {
        var buffer = prefix + [UInt8](repeating: 0, count: 1 << 20)
        var count = prefix.count
        while true {
            do { try buffer.withUnsafeBytes { (b) in try FileDescriptorIO.writeAll(to, UnsafeRawBufferPointer(rebasing: b[..<count])) } } catch {
                return "the backup stopped reading standard input (\(error))"
            }
            do { count = try buffer.withUnsafeMutableBytes { (b) in try FileDescriptorIO.read(from, into: b) } } catch {
                return "cannot read standard input: \(error)"
            }
            if count == 0 { return nil }
        }
    }
}
