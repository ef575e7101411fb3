#if canImport(Glibc)
import Glibc
#endif
@testable import CairnRedisClient

/// Replies from a Redis server (RESP2), read by the client that fetches RDB
/// files and waits for BGSAVE. The bytes arrive through a socket pair, the
/// way a hostile or broken server would send them. First byte even: replies
/// are read until the input is used up; odd: one INFO round trip.
enum RESPTarget {
    static let target = FuzzTarget(
        name: "resp", maxLength: 64 << 10, summary: "RedisConnection.readReply and INFO parsing",
        run: { bytes in
            var input = FuzzInput(bytes)
            let mode = input.byte()
            let replies = input.remaining()
            var fds: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { fatalError("socketpair: \(errno)") }
            var size = Int32(1 << 20)
            setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            var written = 0
            while written < replies.count {
                let n = replies.withUnsafeBytes { send(fds[1], $0.baseAddress! + written, $0.count - written, Int32(MSG_DONTWAIT)) }
                guard n > 0 else { fatalError("cannot queue \(replies.count) bytes in a socket pair: errno \(errno)") }
                written += n
            }
            shutdown(fds[1], Int32(SHUT_WR))
            let connection = RedisConnection(connectedSocket: fds[0], endpoint: RedisEndpoint())
            if mode & 1 == 0 {
                for _ in 0...replies.count {
                    guard (try? connection.readReply()) != nil else { break }
                }
            } else {
                _ = try? connection.info("persistence")
            }
            connection.close()
            close(fds[1])
        })
}
