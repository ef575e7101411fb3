import CairnStorage
import CairnSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT, SIGTERM and SIGHUP end every command cleanly: the handler only
/// writes the signal's number to a pipe (async-signal-safe); a thread reads
/// it, removes the temporary files and locks the process registered with
/// `Interruption`, says what was removed and what is kept, and exits with
/// 128 + the signal (130 for SIGINT, 143 for SIGTERM), the shell's convention.
/// A second signal exits at once. Handlers (not SIG_IGN) are used so that
/// child processes start with the default dispositions.
enum SignalHandling {
    nonisolated(unsafe) static var pipeWriteEnd: Int32 = -1

    static func install() {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        pipeWriteEnd = fds[1]
        let readEnd = fds[0]
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                var byte = UInt8(truncatingIfNeeded: sig)
                _ = write(SignalHandling.pipeWriteEnd, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(sig, &action, nil)
        }
        let thread = Thread { handle(readEnd) }
        thread.name = "cairn-signals"
        thread.start()
    }

    private static func readSignal(_ fd: Int32) -> Int32? {
        var byte: UInt8 = 0
        let n = try? withUnsafeMutableBytes(of: &byte) { (b) in try FileDescriptorIO.read(fd, into: b) }
        return n == 1 ? Int32(byte) : nil
    }

    private static func handle(_ fd: Int32) {
        guard let sig = readSignal(fd) else { return }
        // A second signal while cleaning up: stop at once.
        let impatient = Thread {
            if let again = readSignal(fd) { _exit(128 + again) }
        }
        impatient.start()
        let name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "signal \(sig)"
        say("cairn: interrupted by \(name): stopping")
        let done = Interruption.shared.interrupt(signal: sig) ?? [:]
        var removed: [String] = []
        if let n = done["child process"] { removed.append("stopped \(n) child process\(n == 1 ? "" : "es")") }
        let locks = (done["lock"] ?? 0)
        if locks > 0 { removed.append("removed the repository lock\(locks == 1 ? "" : "s")") }
        if let n = done["temporary file"] { removed.append("removed \(n) temporary file\(n == 1 ? "" : "s")") }
        let kept = Interruption.shared.keptNote
            ?? "what was committed before the signal is kept; nothing half-written was left in the repository"
        say("cairn: \(removed.isEmpty ? "nothing to clean up" : removed.joined(separator: ", ")); \(kept)")
        fflush(nil)
        _exit(128 + sig)
    }

    private static func say(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }
}
