import CairnTestSupport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The fault-injecting proxy (Support/fault_proxy.py) in front of a server.
final class FaultProxy: @unchecked Sendable {
    let process: Process
    let port: Int
    private let output: Pipe
    private var collected = Data()
    private let lock = NSLock()

    /// - Parameter appendOnly: refuse what append-only credentials may not do (deletes and overwrites outside PREFIX/locks/).
    init(target: String, fail: Double, drop: Double, corrupt: Double, seed: Int = 7, opaqueETags: Bool = false, appendOnly: String? = nil) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Support/fault_proxy.py").path
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", script, "--target", target, "--fail", String(fail), "--drop", String(drop),
                             "--corrupt", String(corrupt), "--seed", String(seed)] + (opaqueETags ? ["--opaque-etags"] : [])
            + (appendOnly.map { ["--append-only", $0] } ?? [])
        output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        let handle = output.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        let first = String(decoding: line, as: UTF8.self).split(separator: "\n").first ?? ""
        guard first.hasPrefix("PORT "), let p = Int(first.dropFirst(5)) else {
            process.terminate()
            throw NSError(domain: "FaultProxy", code: 1, userInfo: [NSLocalizedDescriptionKey: "fault proxy did not start: \(first)"])
        }
        port = p
        collected = line
        handle.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.lock.lock(); self.collected += d; self.lock.unlock()
        }
    }

    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// The requests forwarded so far ("GET /bucket/key"), with `opaqueETags`.
    var requests: [String] {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: collected, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("REQ ") }.map { String($0.dropFirst(4)) }
    }

    /// The faults injected so far, one line each.
    var faults: [String] {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: collected, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("FAULT") }.map(String.init)
    }

    /// The requests refused so far ("REFUSED DELETE /bucket/key"), with `appendOnly`.
    var refusals: [String] {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: collected, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("REFUSED ") }.map(String.init)
    }

    func stop() {
        output.fileHandleForReading.readabilityHandler = nil
        MotoServer.stopProcess(process)
    }

    deinit { stop() }
}
