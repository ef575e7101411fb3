/// Errors raised while decoding repository objects. Each says what is wrong in
/// words an operator can act on.
public enum FormatError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes end before the structure does.
    case truncated(what: String)
    /// A magic number or tag did not match.
    case badMagic(what: String)
    /// The object was written by a newer Cairn (`supported`: the newest version this code reads).
    case unsupportedVersion(what: String, version: Int, supported: Int)
    /// A field holds a value the format does not allow.
    case invalid(what: String, reason: String)

    public var description: String {
        switch self {
        case .truncated(let what): return "\(what) is truncated"
        case .badMagic(let what): return "\(what) does not start with the expected magic bytes"
        case .unsupportedVersion(let what, let v, let s):
            return "\(what) has format version \(v); this cairn reads " + (s <= 1 ? "version \(s) only" : "versions 1 to \(s)") + ": upgrade cairn"
        case .invalid(let what, let reason): return "\(what) is invalid: \(reason)"
        }
    }
}
