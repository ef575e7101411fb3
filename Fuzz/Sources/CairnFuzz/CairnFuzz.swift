import CFuzzerDriver
import CairnCrypto
import CairnFormat
#if canImport(Glibc)
import Glibc
#endif

/// `cairn-fuzz TARGET [libFuzzer flags] [corpus dirs]` runs one target under
/// libFuzzer; `cairn-fuzz --list` prints "name<TAB>max_len<TAB>flags<TAB>summary" per
/// target; `cairn-fuzz TARGET --write-seeds DIR` writes the target's
/// encoder-made seeds into DIR. The target also travels in CAIRN_FUZZ_TARGET,
/// so the processes libFuzzer starts itself (-fork, -jobs, -minimize_crash) run the same one.
@main
enum CairnFuzz {
    nonisolated(unsafe) static var selected: FuzzTarget?

    static func main() {
        var args = CommandLine.arguments
        if args.count > 1, args[1] == "--list" {
            for t in FuzzTarget.all { print("\(t.name)\t\(t.maxLength)\t\(t.flags.joined(separator: " "))\t\(t.summary)") }
            return
        }
        if args.count > 1, FuzzTarget.all.contains(where: { $0.name == args[1] }) {
            setenv("CAIRN_FUZZ_TARGET", args.remove(at: 1), 1)
        }
        let name = getenv("CAIRN_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget.all.first(where: { $0.name == name }) else {
            printError("usage: cairn-fuzz TARGET [libFuzzer flags] [corpus dirs]; targets: \(FuzzTarget.all.map(\.name).joined(separator: ", "))")
            exit(2)
        }
        if args.count == 3, args[1] == "--write-seeds" {
            exit(writeSeeds(target, into: args[2]))
        }
        selected = target
        var argc = CInt(args.count)
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        let status = cArgs.withUnsafeMutableBufferPointer { buffer -> CInt in
            var argv = buffer.baseAddress
            return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzerTestOneInput(data, size) }
        }
        exit(status)
    }

    static func writeSeeds(_ target: FuzzTarget, into dir: String) -> CInt {
        for seed in target.seeds() {
            let path = "\(dir)/swift-\(Hex.encode(SHA256.hash(seed).prefix(8)))"
            guard let f = fopen(path, "wb") else {
                printError("cairn-fuzz: cannot write \(path)")
                return 1
            }
            _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
            fclose(f)
        }
        return 0
    }

    static func printError(_ message: String) {
        var line = message + "\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}

/// libFuzzer's own main (linked in with it, though `CairnFuzz.main` runs instead) refers to this.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    CairnFuzz.selected?.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
