import CairnFormat
import CairnRepository

extension ContentRef {
    /// The reference held by `listID`, a list blob this one names: decoded,
    /// and exactly one level below this one (format-spec §11), else a
    /// damaged-blob error naming the list blob. Every walk of a file's
    /// content (restore, copy, prune, scrub's damage trace, snapshot repair)
    /// goes down through here.
    func child(_ listID: ChunkID, plaintext: [UInt8]) throws -> ContentRef {
        let child = try ContentRef.decodeListBlob(plaintext)
        guard level > 0, child.level == level - 1 else {
            throw CairnError.damagedBlob(blob: listID.hex, pack: "-", reason: "list blob has level \(child.level) under level \(level)")
        }
        return child
    }
}
