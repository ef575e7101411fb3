import CairnFormat

/// The one walk down a file's content (format-spec §11): a `ContentRef` of
/// level 0 names data chunks; one of level k > 0 names list blobs, each holding
/// a `ContentRef` of level k − 1. Restore, copy, prune, lock extension, scrub's
/// damage trace, snapshot repair and the FUSE view all expand content through
/// here, so each decodes list blobs and checks their level the same way
/// (`ContentRef.child`).
///
/// Recursive, at most `ContentRef`'s 8 levels deep; one list blob's ids held per level.
enum ListExpander {
    /// Calls `data` with each run of data chunk ids of `content` in order (a
    /// level-0 reference's own ids, then each list blob's). Before a list
    /// blob is read, `enter` says whether to go into it at all (false: the
    /// walk skips it and all below, for walks that visit each list once);
    /// `leave` is called once everything below it is done. `readList`
    /// returns a list blob's verified plaintext; `opened` is told once it
    /// decoded at the right level. A list blob that cannot be read, decoded or
    /// opened goes to `lost` with the error: by default the walk stops there
    /// (throws); a walk of damaged content (scrub's damage trace) records it and
    /// goes on without it (nothing below it is walked, `leave` is not called).
    static func expand(_ content: ContentRef,
                       enter: (ChunkID) async throws -> Bool = { _ in true },
                       readList: (ChunkID) async throws -> [UInt8],
                       opened: (ChunkID) async throws -> Void = { _ in },
                       lost: (ChunkID, any Error) async throws -> Void = { throw $1 },
                       leave: (ChunkID) async throws -> Void = { _ in },
                       data: ([ChunkID]) async throws -> Void) async throws {
        if content.level == 0 {
            if !content.ids.isEmpty { try await data(content.ids) }
            return
        }
        for listID in content.ids where try await enter(listID) {
            let child: ContentRef
            do {
                child = try content.child(listID, plaintext: try await readList(listID))
                try await opened(listID)
            } catch {
                try await lost(listID, error)
                continue
            }
            try await expand(child, enter: enter, readList: readList, opened: opened, lost: lost, leave: leave, data: data)
            try await leave(listID)
        }
    }
}
