@testable import CairnPostgres
import CairnEngine
import CairnStorage
import CairnTar
import Foundation
import XCTest

/// The streamed base backup's extractor against forged archives (issue 15.4,
/// 14.6): a symlink member then a member under it, a hard link to
/// `../outside/victim`, absolute and `..` names, a hard link to a link. Nothing
/// outside PGDATA is written or chowned; GNU tar and bsdtar, given the same
/// archive, write nothing outside either.
final class PGDataTarExtractorTests: XCTestCase {
    var base = ""
    var outside: String { base + "/outside" }
    var victim: String { outside + "/victim" }
    let victimBytes = Array("victim\n".utf8)
    let owner: (uid: UInt32, gid: UInt32) = (54321, 54321)

    override func setUpWithError() throws {
        base = NSTemporaryDirectory() + "cairn-pgtar-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: victim, contents: Data(victimBytes), attributes: [.posixPermissions: 0o600]))
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: base) }

    func assertOutsideUntouched(_ who: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual([UInt8](FileManager.default.contents(atPath: victim) ?? Data()), victimBytes, "\(who): victim overwritten", file: file, line: line)
        var st = stat()
        XCTAssertEqual(lstat(victim, &st), 0)
        XCTAssertEqual(st.st_uid, getuid(), "\(who): victim chowned", file: file, line: line)
        XCTAssertEqual(st.st_mode & 0o7777, 0o600, "\(who): victim's mode changed", file: file, line: line)
        XCTAssertEqual(st.st_nlink, 1, "\(who): victim hard-linked into the extraction", file: file, line: line)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside), ["victim"], "\(who): written outside", file: file, line: line)
    }

    func member(_ path: String, _ kind: TarEntry.Kind, _ content: [UInt8] = []) -> [UInt8] {
        member(Array(path.utf8), kind, content)
    }

    func member(_ path: [UInt8], _ kind: TarEntry.Kind, _ content: [UInt8] = []) -> [UInt8] {
        let e = TarEntry(path: path, kind: kind, mode: kind == .directory ? 0o755 : 0o644, mtimeNanos: 1_700_000_000_000_000_000,
                         size: UInt64(content.count))
        return TarWriter.header(for: e) + content + [UInt8](repeating: 0, count: TarWriter.padding(for: UInt64(content.count)))
    }

    /// Runs the extractor over `archive` in 100-byte pieces into a fresh PGDATA; returns the error, if any.
    func extract(_ archive: [UInt8], into pgdata: String) -> Error? {
        do {
            let extractor = PGDataTarExtractor(root: try DirectoryHandle.openTarget(pgdata), owner: owner)
            var i = 0
            while i < archive.count {
                try extractor.feed(Array(archive[i..<min(i + 100, archive.count)]))
                i += 100
            }
            try extractor.finish()
            return nil
        } catch { return error }
    }

    func run(_ tool: String, _ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    func testForgedArchivesWriteNothingOutsidePGDATA() throws {
        let version = member("PG_VERSION", .file, Array("15\n".utf8))
        let attacks: [(String, [UInt8], toolsRefuse: Bool)] = [
            ("symlink member then a file under it", member("evil", .symlink(target: Array(outside.utf8))) + member("evil/planted", .file, [1, 2]), true),
            ("symlink directory then a directory under it", member("evil", .symlink(target: Array(outside.utf8))) + member("evil/sub", .directory), true),
            ("hard link to ../outside/victim", member("hl", .hardLink(target: Array("../outside/victim".utf8))), true),
            ("hard link to ../../outside/victim", member("global/hl", .hardLink(target: Array("../../outside/victim".utf8))), true),
            ("hard link to an absolute victim", member("hl", .hardLink(target: Array(victim.utf8))), true),
            ("absolute member name", member(outside + "/planted", .file, [1]), false),
            ("member climbing out with ..", member("global/../../outside/planted", .file, [1]), true),
            ("hard link to a symlink member pointing at the victim", member("s", .symlink(target: Array(victim.utf8))) + member("hl", .hardLink(target: Array("s".utf8))), false),
        ]
        for (i, (what, hostile, toolsRefuse)) in attacks.enumerated() {
            let archive = version + hostile + member("global", .directory) + TarWriter.trailer
            let pgdata = base + "/pgdata-\(i)"
            let error = extract(archive, into: pgdata)
            XCTAssertNotNil(error, "\(what): must be refused")
            if let error { XCTAssertTrue("\(error)".contains("refused") || "\(error)".contains("not a file"), "\(what): \(error)") }
            try assertOutsideUntouched("cairn, \(what)")

            // The same archive through GNU tar and bsdtar (as root, as the runbook runs restores).
            let file = base + "/forged-\(i).tar"
            XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data(archive)))
            for (tool, name) in [("/usr/bin/tar", "GNU tar"), ("/usr/bin/bsdtar", "bsdtar")] where FileManager.default.isExecutableFile(atPath: tool) {
                let dir = base + "/\(name.replacingOccurrences(of: " ", with: "-"))-\(i)"
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                let status = run(tool, ["-xpf", file, "-C", dir])
                // Both refuse (exit non-zero) all but an absolute name (extracted inside, the '/' stripped)
                // and a hard link to a link (the link itself linked): harmless too.
                if toolsRefuse { XCTAssertNotEqual(status, 0, "\(name) refuses: \(what)") }
                try assertOutsideUntouched("\(name), \(what)")
            }
        }
    }

    /// A symlink member replaced by a later file member of the same name is
    /// replaced, never written through; names that are not UTF-8 come back
    /// byte-exact; files get the owner through their descriptors.
    func testLinksAreReplacedAndNamesKeptExactly() throws {
        let cafe: [UInt8] = Array("caf".utf8) + [0xe9]
        let archive = member("global", .directory) + member("link", .symlink(target: Array(victim.utf8))) +
            member("link", .file, Array("inside".utf8)) + member(cafe, .file, [7]) + member(Array("global/".utf8) + cafe, .directory) +
            member(Array("global/".utf8) + cafe + Array("/f".utf8), .file, [8]) + member("hl", .hardLink(target: cafe)) + TarWriter.trailer
        let pgdata = base + "/pgdata"
        XCTAssertNil(extract(archive, into: pgdata))
        try assertOutsideUntouched("cairn")
        XCTAssertEqual(try String(contentsOfFile: pgdata + "/link", encoding: .utf8), "inside")
        let names = try XCTUnwrap(DirectoryReader.names(pgdata))
        XCTAssertTrue(names.contains(cafe), "\(names)")
        var st = stat(), hl = stat()
        XCTAssertEqual((pgdata.utf8 + [47] + cafe + [0]).withUnsafeBufferPointer { p in p.withMemoryRebound(to: CChar.self) { lstat($0.baseAddress!, &st) } }, 0)
        XCTAssertEqual(st.st_uid, owner.uid)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        XCTAssertEqual(lstat(pgdata + "/hl", &hl), 0)
        XCTAssertEqual(hl.st_ino, st.st_ino, "the hard link is a link to the non-UTF-8 file")
        XCTAssertEqual(lstat(pgdata + "/global", &st), 0)
        XCTAssertEqual(st.st_uid, owner.uid)
        XCTAssertEqual(st.st_mode & 0o777, 0o700)
    }
}
