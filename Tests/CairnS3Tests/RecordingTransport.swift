import CairnS3
import Foundation

/// Records requests and answers each with a canned response; for checking
/// exactly what the client sends.
final class RecordingTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [HTTPRequest] = []
    let respond: @Sendable (HTTPRequest) -> HTTPResponse

    init(respond: @escaping @Sendable (HTTPRequest) -> HTTPResponse = { _ in HTTPResponse(status: 200, headers: [:], body: []) }) {
        self.respond = respond
    }

    var requests: [HTTPRequest] { lock.lock(); defer { lock.unlock() }; return recorded }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        lock.withLock { recorded.append(request) }
        return respond(request)
    }
}
