// One value of each RDB type, and the encoded containers inside them.
extension RDBWalker {
    /// Largest string decoded in memory to check its contents (an encoded
    /// container, a member compared for duplicates). Redis writes listpacks of
    /// a few KiB; larger ones are checked only as far as the RDB framing goes
    /// and counted in `RDBSummary.uncheckedValues`.
    static var decodeLimit: Int { 8 << 20 }

    func empty(_ at: UInt64, _ what: String) -> RDBError {
        corrupt(at, "empty \(what), which Redis never writes")
    }

    /// A member of a set, hash or sorted set, refused when the collection already has it.
    mutating func member(_ members: inout MemberSet, at: UInt64, what: String) throws {
        let memberAt = reader.offset
        guard let m = try decodedString(limit: Self.decodeLimit) else { members.giveUp(); return }
        guard members.insert(m[...]) else { throw corrupt(memberAt, "\(what) \(preview(m[...])) appears twice") }
    }

    /// Counts a collection whose duplicate check could not complete.
    mutating func account(_ members: MemberSet) {
        if members.overflowed { summary.uncheckedValues += 1 }
    }

    /// The first RDB version whose writer can emit each value type (Redis's rdb.h). A real
    /// server writes only types its own version knows, so a newer type in an older file is a
    /// damaged type byte (redis-check-rdb of that version refuses it too).
    static func firstVersion(ofType type: UInt8) -> Int {
        switch type {
        case 5, 6, 7: return 8          // Redis 4.0: binary-double sorted sets, modules
        case 14: return 7               // Redis 3.2: quicklist
        case 15: return 9               // Redis 5.0: streams
        case 16, 17, 18, 19: return 10  // Redis 7.0: listpacks
        case 20, 21: return 11          // Redis 7.2: set listpacks, streams v3
        case 22, 23, 24, 25: return 12  // Redis 7.4: hash field expiry
        default: return 1
        }
    }

    /// One value of RDB type `type` (Redis's rdb.h), starting at `at`: read and checked as far
    /// as `decodeLimit` allows.
    mutating func value(type: UInt8, at: UInt64) throws {
        if version < Self.firstVersion(ofType: type) {
            throw corrupt(at, "value type \(type) does not exist in RDB version \(version) (first in version \(Self.firstVersion(ofType: type)))")
        }
        switch type {
        case 0: try skipString()
        case 1, 2, 3, 4, 5, 22, 24: try collection(type: type, at: at)
        case 6:
            throw corrupt(at, "module value in the Redis 4.0 release-candidate format")
        case 7:
            _ = try length() // module id
            try moduleValue()
        case 9, 10, 11, 12, 13, 16, 17, 20, 23, 25: try encodedCollection(type: type, at: at)
        case 14, 18: try quicklist(type: type, at: at)
        case 15, 19, 21: try stream(type: type, at: at)
        default:
            throw corrupt(at, "unknown value type \(type) (RDB version \(version))")
        }
    }

    /// A list, set, sorted set or hash stored element by element (types 1-5, 22, 24).
    private mutating func collection(type: UInt8, at: UInt64) throws {
        if type == 24 { try reader.skip(8) } // minimum expiry
        let n = try length()
        let what: String
        switch type {
        case 1: what = "list"
        case 2: what = "set"
        case 3, 5: what = "sorted set"
        default: what = "hash"
        }
        guard n > 0 else { throw empty(at, what) }
        if type == 1 {
            for _ in 0..<n { try skipString() }
            return
        }
        var members = MemberSet()
        for _ in 0..<n {
            switch type {
            case 2:
                try member(&members, at: at, what: "set member")
            case 3, 5:
                try member(&members, at: at, what: "sorted set member")
                let scoreAt = reader.offset
                if type == 5 { try binaryDouble(at: scoreAt) } else { try textDouble(at: scoreAt) }
            case 22, 24:
                _ = try length() // the field's expiry
                try member(&members, at: at, what: "hash field"); try skipString()
            default:
                try member(&members, at: at, what: "hash field"); try skipString()
            }
        }
        account(members)
    }

    /// A collection stored as one encoded container (zipmap, ziplist, intset, listpack).
    private mutating func encodedCollection(type: UInt8, at: UInt64) throws {
        switch type {
        case 9:
            if let b = try blob(kind: .zipmap, at: at) {
                do { _ = try ZipmapCheck.validate(b) } catch let e as PayloadError { throw corrupt(at, e.reason) }
            }
        case 11:
            if let b = try blob(kind: .intset, at: at) {
                do { _ = try IntsetCheck.validate(b) } catch let e as PayloadError { throw corrupt(at, e.reason) }
            }
        default:
            if type == 25 { try reader.skip(8) } // minimum expiry
            let (kind, tuple, what, collection): (Container, Int, String, String)
            switch type {
            case 10: (kind, tuple, what, collection) = (.ziplist, 0, "list", "list")
            case 12: (kind, tuple, what, collection) = (.ziplist, 2, "sorted set member", "sorted set")
            case 13: (kind, tuple, what, collection) = (.ziplist, 2, "hash field", "hash")
            case 16: (kind, tuple, what, collection) = (.listpack, 2, "hash field", "hash")
            case 17: (kind, tuple, what, collection) = (.listpack, 2, "sorted set member", "sorted set")
            case 20: (kind, tuple, what, collection) = (.listpack, 1, "set member", "set")
            default: (kind, tuple, what, collection) = (.listpack, 3, "hash field", "hash") // 23, 25
            }
            if let b = try blob(kind: kind, at: at), try packed(b, ziplist: kind == .ziplist, tuple: tuple, at: at, what: what) == 0 {
                throw empty(at, collection)
            }
        }
    }

    /// A quicklist (type 14: ziplist nodes; 18: plain or listpack nodes).
    private mutating func quicklist(type: UInt8, at: UInt64) throws {
        let n = try length()
        guard n > 0 else { throw empty(at, "list") }
        var elements = 0, unchecked = false
        for _ in 0..<n {
            let nodeAt = reader.offset
            let kind = type == 14 ? 2 : try length()
            switch kind {
            case 1: // a plain node: one large element
                let s = try skipString()
                guard !s.plain || s.length > 0 else { throw corrupt(nodeAt, "empty plain quicklist node") }
                elements += 1
            case 2:
                if let b = try blob(kind: type == 14 ? .ziplist : .listpack, at: nodeAt) {
                    elements += try packed(b, ziplist: type == 14, tuple: 0, at: nodeAt, what: "list element")
                } else { unchecked = true }
            default: throw corrupt(nodeAt, "quicklist node container \(kind) is neither plain (1) nor packed (2)")
            }
        }
        guard elements > 0 || unchecked else { throw empty(at, "list") }
    }

    enum Container { case ziplist, listpack, intset, zipmap }

    /// An encoded container, decoded when it fits `decodeLimit`. A larger one
    /// gets its header checked (when stored plain), is counted as unchecked and
    /// returns nil.
    mutating func blob(kind: Container, at: UInt64) throws -> [UInt8]? {
        skippedPlain = nil
        if let b = try decodedString(limit: Self.decodeLimit) { return b }
        summary.uncheckedValues += 1
        guard let s = skippedPlain else { return nil }
        let p = s.prefix
        func le32(_ i: Int) -> UInt64 { UInt64(p[i]) | UInt64(p[i + 1]) << 8 | UInt64(p[i + 2]) << 16 | UInt64(p[i + 3]) << 24 }
        switch kind {
        case .ziplist, .listpack:
            guard p.count >= 4, le32(0) == s.length else { throw corrupt(at, "\(kind) header does not match its \(s.length) bytes") }
            guard s.last == 0xFF else { throw corrupt(at, "\(kind) does not end with its 0xFF terminator") }
        case .intset:
            let width = le32(0), count = le32(4)
            guard width == 2 || width == 4 || width == 8 else { throw corrupt(at, "intset element width \(width)") }
            guard 8 + width * count == s.length else { throw corrupt(at, "intset of \(count) × \(width) bytes in a \(s.length)-byte string") }
        case .zipmap:
            guard s.last == 0xFF else { throw corrupt(at, "zipmap does not end with its 0xFF terminator") }
        }
        return nil
    }

    /// Walks a listpack or ziplist entry by entry. With `tuple` > 0 (1: set, 2:
    /// field and value, 3: field, value and expiry time) the first element of
    /// each tuple must be unique and the count a multiple of `tuple`. Returns
    /// the element count.
    mutating func packed(_ b: [UInt8], ziplist: Bool, tuple: Int, at: UInt64, what: String) throws -> Int {
        var members = MemberSet()
        var index = 0
        var lastExpiry: Int64 = -1
        func visit(_ e: PackedElement) throws {
            if tuple > 0 && index % tuple == 0 {
                let m = e.bytes(in: b)
                guard members.insert(m) else { throw PayloadError("\(what) \(preview(m)) appears twice") }
            }
            if tuple == 3 && index % 3 == 2 {
                guard let t = e.integer(in: b), t >= 0, t <= (1 << 48) - 1 else { throw PayloadError("field expiry time is not a time") }
                if t != 0 && (lastExpiry == 0 || t < lastExpiry) { throw PayloadError("field expiry times are out of order") }
                lastExpiry = t
            }
            index += 1
        }
        do {
            if ziplist {
                var c = try ZiplistCursor(b)
                while let e = try c.next() { try visit(e) }
                try c.finish()
            } else {
                var c = try ListpackCursor(b)
                while let e = try c.next() { try visit(e) }
                try c.finish()
            }
            if tuple > 1 && index % tuple != 0 {
                throw PayloadError("\(ziplist ? "ziplist" : "listpack") holds \(index) elements, not a multiple of \(tuple)")
            }
        } catch let e as PayloadError {
            throw corrupt(at, e.reason)
        }
        account(members)
        return index
    }

    /// A member for a message: at most 40 bytes, anything but printable ASCII as \xNN.
    func preview(_ m: ArraySlice<UInt8>) -> String {
        var s = "\""
        for b in m.prefix(40) {
            if b >= 32 && b < 127 && b != 34 && b != 92 { s.unicodeScalars.append(Unicode.Scalar(b)) } else {
                s += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
            }
        }
        return s + (m.count > 40 ? "…\"" : "\"")
    }

    /// A module value (type 7, or module aux data) in the self-describing form, to its EOF opcode.
    mutating func moduleValue() throws {
        while true {
            let at = reader.offset
            let op = try length()
            switch op {
            case 0: return
            case 1, 2: _ = try length()
            case 3: try reader.skip(4)
            case 4: try reader.skip(8)
            case 5: try skipString()
            default: throw corrupt(at, "unknown module value opcode \(op)")
            }
        }
    }
}
