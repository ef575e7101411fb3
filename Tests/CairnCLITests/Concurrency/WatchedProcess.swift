import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A started `cairn` whose standard error the test can read while it runs, and
/// whose pid it can signal: a test that must hold one process at a chosen point
/// (SIGSTOP) until another has reached its own (a line on stderr) does not
/// depend on how fast a loaded machine runs either.
final class WatchedProcess: @unchecked Sendable {
    let pid: Int32
    private let process: Process
    private let out = Pipe()
    private let lock = NSLock()
    private var errBytes = Data()
    private let errDone = DispatchSemaphore(value: 0)

    init(_ args: [String], env: [String: String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try CairnProcess.cairnBinary())
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let err = Pipe()
        p.standardOutput = out; p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        process = p
        pid = p.processIdentifier
        let reader = err.fileHandleForReading
        Thread.detachNewThread { [self] in
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                lock.lock(); errBytes.append(chunk); lock.unlock()
            }
            errDone.signal()
        }
    }

    /// What the process has written to stderr so far.
    var errorText: String {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: errBytes, as: UTF8.self)
    }

    /// Waits until stderr contains `text`; false if the process ended or `timeout` passed first.
    func waitForError(containing text: String, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if errorText.contains(text) { return true }
            if !process.isRunning { return errorText.contains(text) }
            usleep(10_000)
        }
        return false
    }

    /// Waits for the end and returns status and output.
    func wait() -> CairnProcess.Run {
        let o = out.fileHandleForReading.readDataToEndOfFile()
        errDone.wait()
        process.waitUntilExit()
        return CairnProcess.Run(status: process.terminationStatus, out: String(decoding: o, as: UTF8.self), err: errorText)
    }
}
