import CairnTar

/// A tar stream (a `pg_basebackup` tar, `redis`/`node` tar input, `cairn pg
/// restore` of a base backup): the push parser, fed in pieces whose size the
/// first byte sets (0: all at once). Checks that it reports exactly the bytes
/// each member declares, and consumes every byte it is given.
enum TarTarget {
    static let target = FuzzTarget(
        name: "tar", maxLength: 16 << 10, summary: "TarStreamReader fed in pieces",
        run: { bytes in
            var input = FuzzInput(bytes)
            let piece = Int(input.byte())
            let stream = input.remaining()
            var reader = TarStreamReader()
            var current: TarEntry? = nil
            var seen: UInt64 = 0
            var fed = 0
            do {
                while fed < stream.count {
                    let n = piece == 0 ? stream.count : min(piece, stream.count - fed)
                    try reader.feed(stream[fed..<fed + n]) { event in
                        switch event {
                        case .entry(let e):
                            require(current == nil, "an entry began before the previous one ended")
                            current = e; seen = 0
                        case .data(let d):
                            require(current?.kind == .file, "content reported outside a regular file")
                            seen += UInt64(d.count)
                            require(seen <= current?.size ?? 0, "more content than the entry's size")
                        case .entryEnd:
                            require(current != nil, "an entry ended that never began")
                            require(current?.kind != .file || seen == current?.size, "an entry ended short of its size")
                            current = nil
                        }
                    }
                    fed += n
                    require(reader.offset == UInt64(fed), "consumed \(reader.offset) of \(fed) bytes fed")
                }
                try reader.finish()
            } catch {}
        })
}
