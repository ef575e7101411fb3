/// Why an operation could not run, one line each.
public enum OpsError: Error, CustomStringConvertible, Sendable {
    case failed(String)
    /// Another `cairn run` holds the run lock.
    case busy(String)
    /// A server a drill needs is not installed.
    case missingProgram(String)

    public var description: String {
        switch self {
        case .failed(let m): return m
        case .busy(let m): return m
        case .missingProgram(let m): return m
        }
    }
}
