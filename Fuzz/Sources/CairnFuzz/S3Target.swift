import CairnS3
import CairnStorage
import Dispatch
import Synchronization

/// Answers of an S3-compatible server (status, the headers Cairn reads, XML
/// bodies) to the requests of a repository on S3: listing with continuation,
/// ranged and segmented reads, sizes, puts with ETag checks, multipart
/// starts and completions, error bodies. The server is the input: each answer
/// is carved off it in turn and the last one repeats, as a stuck or hostile
/// server would repeat itself.
enum S3Target {
    static let target = FuzzTarget(
        name: "s3", maxLength: 64 << 10, summary: "S3Client and S3Store over scripted responses (XML list/error parsing)",
        flags: ["-detect_leaks=0"],
        run: run)

    static let statuses = [200, 200, 200, 206, 204, 404, 403, 409, 416, 500, 503]

    static func responses(_ bytes: [UInt8]) -> [HTTPResponse] {
        var input = FuzzInput(bytes)
        var out: [HTTPResponse] = []
        while !input.rest.isEmpty {
            let status = statuses[Int(input.byte()) % statuses.count]
            let flags = input.byte()
            let body = input.take(Int(input.u16()))
            var headers: [String: String] = [:]
            if flags & 1 != 0 { headers["content-length"] = String(flags & 2 != 0 ? body.count : Int(input.u16())) }
            if flags & 4 != 0 { headers["etag"] = input.take(34).text }
            if flags & 8 != 0 { headers["x-amz-server-side-encryption"] = "aws:kms" }
            out.append(HTTPResponse(status: status, headers: headers, body: body))
        }
        return out
    }

    static func run(_ bytes: [UInt8]) {
        let transport = ScriptedTransport(responses(bytes))
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            await exercise(transport)
            done.signal()
        }
        done.wait()
    }

    static func exercise(_ transport: ScriptedTransport) async {
        guard let location = try? S3Location(url: "s3:http://127.0.0.1:9000/bucket/repo") else { fatalError("location") }
        let client = S3Client(location: location, credentials: S3Credentials(accessKeyID: "AKIDFUZZ", secretAccessKey: "secret"),
                              region: "us-east-1", transport: transport, connections: 1, listPageSize: 2, now: { 1_700_000_000 })
        var options = S3Store.Options()
        options.readSegmentSize = 1 << 10
        options.readSegments = 2
        let store = S3Store(client: client, options: options)
        let pack = ObjectKey(.data, String(repeating: "ab", count: 32))
        _ = try? await store.list(.snapshots)
        _ = try? await store.list(.data)
        _ = try? await store.get(ObjectKey(.snapshots, "a"))
        _ = try? await store.get(pack, offset: 1000, length: 100)
        _ = try? await store.get(ObjectKey(.index, "b"), offset: 0, length: 10)
        _ = try? await store.size(.config)
        _ = try? await store.put(ObjectKey(.locks, "c"), [1, 2, 3])
        if let upload = try? await client.createMultipartUpload("repo/data/ab/x") {
            _ = try? await client.uploadPart("repo/data/ab/x", uploadID: upload, number: 1, [4, 5, 6])
            _ = try? await client.completeMultipartUpload("repo/data/ab/x", uploadID: upload, etags: ["\"x\""])
        }
        _ = try? await client.bucketExists()
        _ = try? await client.createBucket()
        _ = try? await store.delete(pack)
    }
}

/// A server that answers from a script; past its end it repeats the last answer.
final class ScriptedTransport: HTTPTransport {
    private let script: [HTTPResponse]
    private let next = Mutex(0)

    init(_ script: [HTTPResponse]) { self.script = script }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard !script.isEmpty else { throw HTTPTransportError("connection refused") }
        let i = next.withLock { n in defer { n += 1 }; return min(n, script.count - 1) }
        return script[i]
    }
}
