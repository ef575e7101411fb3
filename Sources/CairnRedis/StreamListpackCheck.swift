/// Redis's `streamValidateListpackIntegrity` in deep mode: a stream node's
/// listpack holds a master entry (count, deleted count, field count, the
/// field names, 0) and then entries (flags, two ID deltas, the field count
/// and names unless flag 2 "same fields" is set, the values, and the
/// entry's element count), all integers where integers belong, ending exactly
/// at the terminator. The header's element count is not checked (Redis does
/// not either).
enum StreamListpackCheck {
    static let sameFields: Int64 = 2

    static func validate(_ bytes: [UInt8]) throws {
        var c = try ListpackCursor(bytes)
        guard try c.next() != nil else { throw PayloadError("empty listpack inside a stream") }
        c = try ListpackCursor(bytes)
        func element(_ what: String) throws -> PackedElement {
            guard let e = try c.next() else { throw PayloadError("stream listpack ends before the \(what)") }
            return e
        }
        func integer(_ what: String) throws -> Int64 {
            guard let v = try element(what).integer(in: bytes) else { throw PayloadError("stream listpack \(what) is not an integer") }
            return v
        }
        let entries = try integer("entry count")
        let deleted = try integer("deleted-entry count")
        let masterFields = try integer("master field count")
        var j: Int64 = 0
        while j < masterFields { _ = try element("master field names"); j += 1 }
        guard try integer("master entry terminator") == 0 else { throw PayloadError("stream listpack master entry does not end with 0") }
        var remaining = entries &+ deleted
        while remaining != 0 {
            remaining &-= 1
            var fields = masterFields, extra: Int64 = 3
            let flags = try integer("entry flags")
            _ = try integer("entry ID (milliseconds)")
            _ = try integer("entry ID (sequence)")
            if flags & sameFields == 0 {
                fields = try integer("entry field count")
                var k: Int64 = 0
                while k < fields { _ = try element("entry field names"); k += 1 }
                extra = extra &+ fields &+ 1
            }
            var k: Int64 = 0
            while k < fields { _ = try element("entry values"); k += 1 }
            let stated = try integer("entry element count")
            guard stated == fields &+ extra else {
                throw PayloadError("stream entry element count \(stated) does not match its \(fields &+ extra) elements")
            }
        }
        guard try c.next() == nil else { throw PayloadError("stream listpack holds elements after its last entry") }
    }
}
