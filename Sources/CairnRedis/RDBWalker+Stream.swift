// Streams: entry listpacks, metadata, consumer groups and their pending entries.
extension RDBWalker {
    /// A stream: listpacks of entries, metadata, consumer groups with their
    /// pending entries, checked as Redis's loader does in deep mode.
    mutating func stream(type: UInt8, at: UInt64) throws {
        let nodes = try length()
        var nodeKeys = MemberSet()
        for _ in 0..<nodes {
            let keyAt = reader.offset
            guard let key = try decodedString(limit: 16), key.count == 16 else { throw corrupt(keyAt, "stream node key is not a 16-byte stream ID") }
            guard nodeKeys.insert(key[...]) else { throw corrupt(keyAt, "stream node \(StreamID(key)) appears twice") }
            let listpackAt = reader.offset
            if let lp = try blob(kind: .listpack, at: listpackAt) {
                do { try StreamListpackCheck.validate(lp) } catch let e as PayloadError { throw corrupt(listpackAt, e.reason) }
            }
        }
        account(nodeKeys)
        let entries = try length()
        _ = try length(); _ = try length() // last id
        if type >= 19 {
            _ = try length(); _ = try length() // first id
            _ = try length(); _ = try length() // max deleted id
            _ = try length() // entries added
        }
        guard entries == 0 || nodes > 0 else { throw corrupt(at, "stream of \(entries) entries has no nodes") }
        let groups = try length()
        var groupNames = MemberSet()
        for _ in 0..<groups {
            let groupAt = reader.offset
            let name = try decodedString(limit: Self.decodeLimit)
            let label = name.map { preview($0[...]) } ?? "(long name)"
            if let name { guard groupNames.insert(name[...]) else { throw corrupt(groupAt, "consumer group \(label) appears twice") } } else { groupNames.giveUp() }
            _ = try length(); _ = try length() // last delivered id
            if type >= 19 { _ = try length() } // entries read
            // The group's pending entries, each to be claimed by one of its consumers.
            var pending: [StreamID: Bool] = [:]
            var tracking = true
            let pendingCount = try length()
            for _ in 0..<pendingCount {
                let idAt = reader.offset
                let id = StreamID(try reader.bytes(16))
                try reader.skip(8) // delivery time
                _ = try length() // delivery count
                guard tracking else { continue }
                if pending.count >= MemberSet.defaultLimit { tracking = false; pending = [:]; summary.uncheckedValues += 1; continue }
                guard pending.updateValue(false, forKey: id) == nil else { throw corrupt(idAt, "pending entry \(id) of consumer group \(label) is listed twice") }
            }
            let consumers = try length()
            var consumerNames = MemberSet()
            for _ in 0..<consumers {
                let consumerAt = reader.offset
                let cname = try decodedString(limit: Self.decodeLimit)
                let clabel = cname.map { preview($0[...]) } ?? "(long name)"
                if let cname { guard consumerNames.insert(cname[...]) else { throw corrupt(consumerAt, "consumer \(clabel) of group \(label) appears twice") } } else { consumerNames.giveUp() }
                try reader.skip(8) // seen time
                if type >= 21 { try reader.skip(8) } // active time
                let owned = try length()
                var ownedIDs = Set<StreamID>()
                for _ in 0..<owned {
                    let idAt = reader.offset
                    let id = StreamID(try reader.bytes(16))
                    guard tracking else { continue }
                    guard pending[id] != nil else { throw corrupt(idAt, "consumer \(clabel) owns pending entry \(id), which group \(label) does not list") }
                    pending[id] = true
                    guard ownedIDs.insert(id).inserted else { throw corrupt(idAt, "consumer \(clabel) owns pending entry \(id) twice") }
                }
            }
            account(consumerNames)
            if tracking, let orphan = pending.first(where: { !$0.value }) {
                throw corrupt(groupAt, "pending entry \(orphan.key) of consumer group \(label) has no consumer")
            }
        }
        account(groupNames)
    }
}
