/// A C library that only some commands need (libcurl, libpq, libfuse3) is loaded on first use
/// (Docs/architecture.md, "Libraries loaded on first use"); its C shim's load function returns
/// NULL or one line naming the library and the package to install. That line, thrown.
public enum LazyLibraryError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The library or one of its functions is missing: the loader's reason.
    case unavailable(String)

    public var description: String {
        switch self {
        case .unavailable(let reason): return reason
        }
    }

    /// Throws the reason a shim's load function returned; returns when it returned NULL (loaded).
    public static func check(_ reason: UnsafePointer<CChar>?) throws {
        if let reason { throw LazyLibraryError.unavailable(String(cString: reason)) }
    }
}
