/// Why an encoded container (listpack, ziplist, intset, LZF data) inside an RDB
/// value is malformed. The walker turns it into `RDBError.corrupt` with the
/// offset of the value.
struct PayloadError: Error, Equatable {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
