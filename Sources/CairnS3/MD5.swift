import COpenSSL
import Foundation

/// MD5 for `Content-MD5`, the checksum every S3-compatible server verifies
/// on upload (not used for anything that needs collision resistance).
enum MD5 {
    static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeBytes { b in
            out.withUnsafeMutableBytes { o in
                _ = EVP_Digest(b.baseAddress, b.count, o.baseAddress?.assumingMemoryBound(to: UInt8.self), nil, EVP_md5(), nil)
            }
        }
        return out
    }

    static func base64(_ bytes: [UInt8]) -> String { base64(md5: digest(bytes)) }
    static func base64(md5: [UInt8]) -> String { Data(md5).base64EncodedString() }
}
