import Foundation
import XCTest
import CairnFormat

/// FastCDC against a live pyfastcdc on fresh random input and parameters.
/// Skipped when pyfastcdc is not installed, except on CI (`CI=true`), where
/// its absence fails the test.
final class FastCDCLiveTests: XCTestCase {
    /// Reads the input file named by argv[1], chunks it with the parameters in
    /// argv[2...], prints the cut lengths as JSON. Seeds of 2^63 and above
    /// overflow pyfastcdc's Cython build, so those use its pure-Python twin.
    private static let script = """
        import json, sys
        avg, mn, mx, nc, seed = (int(a) for a in sys.argv[2:7])
        if seed >= 1 << 63:
            from pyfastcdc.py import FastCDC
        else:
            from pyfastcdc import FastCDC
        data = open(sys.argv[1], "rb").read()
        cdc = FastCDC(avg, min_size=mn, max_size=mx, normalized_chunking=nc, seed=seed)
        print(json.dumps([c.length for c in cdc.cut_buf(data)]))
        """

    private struct Run { var status: Int32; var stdout: Data; var stderr: Data }

    private func python(_ arguments: [String]) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: o, stderr: e)
    }

    /// True when pyfastcdc can be imported. Otherwise fails the test on CI,
    /// or skips it elsewhere.
    private func requirePyfastcdc() throws -> Bool {
        let available = (try? python(["-c", "import pyfastcdc"]))?.status == 0
        if available { return true }
        guard ProcessInfo.processInfo.environment["CI"] == "true" else {
            throw XCTSkip("pyfastcdc is not installed (pip install pyfastcdc==0.3.1)")
        }
        XCTFail("pyfastcdc is required on CI (CI=true): pip install pyfastcdc==0.3.1")
        return false
    }

    func testRandomParametersAgainstLivePyfastcdc() throws {
        guard try requirePyfastcdc() else { return }
        var seeder = SystemRandomNumberGenerator()
        let runSeed = seeder.next() as UInt64
        var rng = SplitMix64(seed: runSeed)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-fastcdc-\(runSeed)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        for round in 0..<6 {
            let params = Self.randomParameters(&rng)
            let kind = GeneratedInput.allCases[Int(rng.next() % 4)]
            let size = Int(rng.next() % UInt64(max(4 * params.maximumSize, 1 << 20)))
            let input = kind.bytes(seed: rng.next(), count: size)
            let file = dir.appendingPathComponent("input-\(round)")
            try Data(input).write(to: file)
            let run = try python(["-c", Self.script, file.path, "\(params.averageSize)", "\(params.minimumSize)",
                                  "\(params.maximumSize)", "\(params.normalization)", "\(params.seed)"])
            let context = "run seed \(runSeed), round \(round): \(params), \(kind) input of \(size) bytes"
            XCTAssertEqual(run.status, 0, "\(context): \(String(decoding: run.stderr, as: UTF8.self))")
            let expected = try JSONDecoder().decode([Int].self, from: run.stdout)
            XCTAssertEqual(try FastCDC(params).lengths(of: input), expected, context)
        }
    }

    /// Valid parameters anywhere in pyfastcdc's accepted ranges.
    static func randomParameters(_ rng: inout SplitMix64) -> ChunkerParameters {
        let avg = 256 << Int(rng.next() % 12) + Int(rng.next() % 64) - 32  // around 256 B ... 512 KiB
        let average = min(max(avg, 256), 4 << 20)
        let lowMin = 64, highMin = min(average, 1 << 20)
        let minimum = rng.next() % 2 == 0 ? max(average / 4, lowMin) : lowMin + Int(rng.next() % UInt64(highMin - lowMin + 1))
        let lowMax = max(average, 1024), highMax = min(average * 8, 16 << 20)
        let maximum = rng.next() % 2 == 0 ? max(average * 4, lowMax) : lowMax + Int(rng.next() % UInt64(highMax - lowMax + 1))
        return ChunkerParameters(minimumSize: minimum, averageSize: average, maximumSize: maximum,
                                 normalization: UInt8(rng.next() % 4), seed: rng.next() % 4 == 0 ? 0 : rng.next())
    }
}
