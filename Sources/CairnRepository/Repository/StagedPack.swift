import CairnCrypto
import CairnFormat
import CairnStorage

/// A pack filling up in a staging file (format-spec §9): sealed blobs are
/// appended as they are added and hashed on the way, so an open pack costs a
/// write buffer, not its 16 MiB, and a local store moves the file into place
/// without copying it.
package final class StagedPack {
    package let type: PackType
    private let file: StagingFile
    private var hasher: SHA256Hasher? = SHA256Hasher()
    package private(set) var entries: [BlobEntry] = []
    /// Super-features of the data blobs stored whole, recorded once the pack is stored.
    package var features: [(ChunkID, [Int64])] = []

    /// Bytes of blobs appended so far.
    package var size: UInt64 { file.size }

    package init(type: PackType, directory: String, modes: FileModes = .ownerOnly) throws {
        self.type = type
        file = try StagingFile(directory: directory, prefix: "pack", modes: modes)
    }

    /// A pack for `repo`, staged where its store can move a finished pack into place without
    /// copying it (a local store's `tmp/`), else in the cache.
    package convenience init(type: PackType, repo: Repository) throws {
        if let directory = repo.store.stagingDirectory {
            try self.init(type: type, directory: directory, modes: repo.store.stagingModes)
        } else {
            try self.init(type: type, directory: "\(repo.cacheDirectory)/staging")
        }
    }

    /// Appends one sealed blob and its header entry.
    package func append(_ sealed: [UInt8], type blobType: BlobType, id: ChunkID, rawLength: Int, base: ChunkID?) throws {
        try sealed.withUnsafeBytes { try append($0, type: blobType, id: id, rawLength: rawLength, base: base) }
    }

    /// `append` from borrowed bytes.
    package func append(_ sealed: UnsafeRawBufferPointer, type blobType: BlobType, id: ChunkID, rawLength: Int, base: ChunkID?) throws {
        entries.append(BlobEntry(type: blobType, id: id, offset: file.size, length: UInt32(sealed.count), rawLength: UInt32(rawLength), base: base))
        try file.append(sealed)
        hasher?.update(sealed)
    }

    /// Appends the sealed header and its length and closes the file; the
    /// pack's id is the SHA-256 of all its bytes.
    package func finish(keys: Keyring) throws -> (id: PackID, path: String, size: UInt64) {
        let trailer = try PackAssembler.trailer(type: type, entries: entries, keys: keys)
        guard var h = hasher.take() else { throw CairnError.io("pack \(file.path) was finished twice") }
        try trailer.withUnsafeBytes { b in
            try file.append(b)
            h.update(b)
        }
        try file.close()
        guard let id = PackID(bytes: h.finalize()) else { throw CairnError.io("SHA-256 returned a digest of the wrong length") }
        return (id, file.path, file.size)
    }

    /// Removes the staging file (an abandoned backup).
    package func discard() { file.discard() }
}
