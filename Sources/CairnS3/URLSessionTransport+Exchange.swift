import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension URLSessionTransport {
    /// One request's response as it arrives, and its one result, delivered
    /// once to whoever waits (the completion, the watchdog or a cancellation:
    /// the first to finish wins).
    final class Exchange: @unchecked Sendable {
        /// Capacity reserved up front from a declared Content-Length at most
        /// (a larger body still arrives, growing as it comes): a hostile
        /// header never makes a large allocation by itself.
        static let reserveLimit = 64 << 20

        typealias Outcome = Result<(body: [UInt8], response: URLResponse), any Error>
        private let lock = NSLock()
        private var body: [UInt8] = []
        private var result: Outcome?
        private var waiter: CheckedContinuation<(body: [UInt8], response: URLResponse), any Error>?
        private var delivered = false

        /// The response's head: room for the declared body.
        func received(_ response: URLResponse) {
            let declared = response.expectedContentLength
            lock.withLock {
                guard result == nil, declared > 0 else { return }
                body.reserveCapacity(Int(min(declared, Int64(Self.reserveLimit))))
            }
        }

        /// The next piece of the body.
        func received(_ data: Data) {
            lock.withLock {
                guard result == nil else { return }
                body.append(contentsOf: data)
            }
        }

        /// The task ended: with its response and the body received, or with `error`.
        func completed(_ response: URLResponse?, error: (any Error)?) {
            if let error { return finish(.failure(HTTPTransportError((error as NSError).localizedDescription))) }
            guard let response else { return finish(.failure(HTTPTransportError("no response"))) }
            let whole = lock.withLock { () -> [UInt8] in
                defer { body = [] }
                return body
            }
            finish(.success((whole, response)))
        }

        func finish(_ r: Outcome) {
            lock.lock()
            guard result == nil else { lock.unlock(); return }
            result = r
            body = []
            let w = waiter; if w != nil { delivered = true }
            lock.unlock()
            w?.resume(with: r)
        }

        func wait(_ c: CheckedContinuation<(body: [UInt8], response: URLResponse), any Error>) {
            lock.lock()
            if let result, !delivered { delivered = true; lock.unlock(); c.resume(with: result); return }
            waiter = c
            lock.unlock()
        }
    }

    /// The session's delegate: hands each task's response, body pieces and
    /// end to its `Exchange`.
    final class BodyReceiver: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        private let lock = NSLock()
        private var exchanges: [Int: Exchange] = [:]

        func register(_ exchange: Exchange, for task: URLSessionTask) {
            lock.withLock { exchanges[task.taskIdentifier] = exchange }
        }

        private func exchange(_ task: URLSessionTask) -> Exchange? {
            lock.withLock { exchanges[task.taskIdentifier] }
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
            exchange(dataTask)?.received(response)
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            exchange(dataTask)?.received(data)
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            let exchange = lock.withLock { exchanges.removeValue(forKey: task.taskIdentifier) }
            exchange?.completed(task.response, error: error)
        }
    }
}
