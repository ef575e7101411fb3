@testable import CairnEngine
import CairnTestSupport
import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A tree restore creates a small file under its final name only in a
/// directory it made itself and no one else can write to; everywhere else
/// the file stays unnamed until `commit`, and a name already taken is never
/// written through.
final class DirectoryHandleNamedFileTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws { dir = try temporaryDirectory("named") }

    private func write(_ file: DirectoryHandle.NewFile, _ text: String) throws {
        XCTAssertEqual(Array(text.utf8).withUnsafeBytes { Glibc.write(file.fd, $0.baseAddress, $0.count) }, text.utf8.count)
    }

    private func contents(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    func testFileInADirectoryThisProcessMadeIsCreatedUnderItsName() throws {
        let root = try DirectoryHandle.openTarget(dir)
        XCTAssertFalse(root.privateToProcess, "the target was not made by the restore's own mkdirat")
        let (sub, _) = try root.subdirectory(Array("d".utf8), display: "d")
        XCTAssertTrue(sub.privateToProcess)
        let file = try sub.newFile(display: "d/a", unnamedMode: 0o640, named: Array("a".utf8))
        XCTAssertEqual(file.finalName, Array("a".utf8))
        XCTAssertNotNil(sub.entry(Array("a".utf8)), "created under its name")
        try write(file, "alpha")
        XCTAssertNil(try sub.commit(file, as: Array("a".utf8), display: "d/a"), "nothing replaced")
        close(file.fd)
        XCTAssertEqual(contents(dir + "/d/a"), "alpha")
        let mode = try XCTUnwrap(sub.entry(Array("a".utf8))).st_mode & 0o777
        XCTAssertEqual(mode, 0o640 & ~(try currentUmask()))

        // A file that fails is removed under the name it was created with.
        let failed = try sub.newFile(display: "d/b", named: Array("b".utf8))
        try write(failed, "half")
        sub.discard(failed)
        XCTAssertNil(sub.entry(Array("b".utf8)))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/d"), ["a"])
    }

    func testDirectoryThatWasThereGetsUnnamedFiles() throws {
        try FileManager.default.createDirectory(atPath: dir + "/old", withIntermediateDirectories: false)
        let root = try DirectoryHandle.openTarget(dir)
        let (sub, _) = try root.subdirectory(Array("old".utf8), display: "old")
        XCTAssertFalse(sub.privateToProcess, "an existing directory may hold what others put there")
        let file = try sub.newFile(display: "old/a", named: Array("a".utf8))
        XCTAssertNil(file.finalName)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/old"), [], "no name before commit")
        try write(file, "alpha")
        try sub.commit(file, as: Array("a".utf8), display: "old/a")
        close(file.fd)
        XCTAssertEqual(contents(dir + "/old/a"), "alpha")
    }

    /// The check is made on the directory as opened: one open to others (as a
    /// directory swapped in after the mkdirat would be) is not trusted.
    func testMadeDirectoryOpenToOthersIsNotPrivate() throws {
        try FileManager.default.createDirectory(atPath: dir + "/open", withIntermediateDirectories: false)
        XCTAssertEqual(chmod(dir + "/open", 0o755), 0)
        let fd = open(dir + "/open", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let handle = try DirectoryHandle(adopting: fd, made: true)
        XCTAssertFalse(handle.privateToProcess)
        let file = try handle.newFile(display: "open/a", named: Array("a".utf8))
        XCTAssertNil(file.finalName)
        handle.discard(file)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/open"), [])
    }

    /// A name already taken in a private directory (here a link planted by the
    /// test) is neither opened nor followed: the file falls back to the unnamed
    /// way, and `commit` replaces the link, leaving its target as it was.
    func testNameTakenByALinkIsReplacedNotFollowed() throws {
        let victim = dir + "/victim"
        try Data("precious".utf8).write(to: URL(fileURLWithPath: victim))
        let root = try DirectoryHandle.openTarget(dir)
        let (sub, _) = try root.subdirectory(Array("d".utf8), display: "d")
        XCTAssertTrue(sub.privateToProcess)
        XCTAssertEqual(symlink(victim, dir + "/d/a"), 0)
        let file = try sub.newFile(display: "d/a", named: Array("a".utf8))
        XCTAssertNil(file.finalName)
        try write(file, "restored")
        let replaced = try sub.commit(file, as: Array("a".utf8), display: "d/a")
        close(file.fd)
        XCTAssertTrue(replaced?.contains("symbolic link") == true, replaced ?? "nil")
        XCTAssertEqual(contents(victim), "precious")
        XCTAssertEqual(contents(dir + "/d/a"), "restored")
        let st = try XCTUnwrap(sub.entry(Array("a".utf8)))
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFREG)
    }

    /// The process's umask, read without changing it.
    private func currentUmask() throws -> mode_t {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("Umask:") })
        return try XCTUnwrap(mode_t(line.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8))
    }
}
