/// Reading a libpq connection string (`host=db user='a b' dbname=app`) the way libpq does, for the few
/// settings Cairn needs from it (which user and database a drill connects as).
public enum Conninfo {
    /// The value of `key` in a `key=value` connection string: single quotes and backslash escapes honoured,
    /// the first occurrence wins. Nil when the key is absent, the string is malformed, or it is a URI
    /// (`postgres://`, `postgresql://`), whose parts libpq decodes differently.
    public static func value(of key: String, in conninfo: String?) -> String? {
        guard let conninfo, !conninfo.hasPrefix("postgres://"), !conninfo.hasPrefix("postgresql://") else { return nil }
        var rest = Substring(conninfo)
        func skipSpace() { rest = rest.drop(while: \.isWhitespace) }
        /// Characters up to (not including) one that `stop` accepts; a backslash takes the next one literally.
        func value(until stop: (Character) -> Bool) -> String {
            var v = ""
            while let c = rest.first, !stop(c) {
                rest = rest.dropFirst()
                if c == "\\", let escaped = rest.first {
                    v.append(escaped)
                    rest = rest.dropFirst()
                } else {
                    v.append(c)
                }
            }
            return v
        }
        while true {
            skipSpace()
            guard !rest.isEmpty else { return nil }
            let k = String(rest.prefix(while: { $0 != "=" && !$0.isWhitespace }))
            rest = rest.dropFirst(k.count)
            skipSpace()
            guard rest.first == "=" else { return nil }
            rest = rest.dropFirst()
            skipSpace()
            let v: String
            if rest.first == "'" {
                rest = rest.dropFirst()
                v = value(until: { $0 == "'" })
                rest = rest.dropFirst()
            } else {
                v = value(until: \.isWhitespace)
            }
            if k == key { return v }
        }
    }
}
