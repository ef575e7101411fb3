@testable import CairnS3
import Foundation
import XCTest

/// `S3XML` reads S3's answers by tag, in the UTF-8 bytes.
final class S3XMLTests: XCTestCase {
    func testValuesInOrderWithEntitiesAndTagsThatShareAPrefix() {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?><ListBucketResult><KeyCount>3</KeyCount>\
            <Contents><Key>a/1</Key><Size>10</Size></Contents>\
            <Contents><Key>a/&lt;2&gt; &amp; &#x20AC;&#65;</Key><Size>0</Size></Contents>\
            <Contents><Key>é/ü/日本</Key><Size>7</Size></Contents>\
            <NextContinuationToken>t&amp;1</NextContinuationToken></ListBucketResult>
            """
        XCTAssertEqual(S3XML.values("Key", in: xml), ["a/1", "a/<2> & €A", "é/ü/日本"])
        XCTAssertEqual(S3XML.values("Size", in: xml), ["10", "0", "7"])
        XCTAssertEqual(S3XML.first("KeyCount", in: xml), "3")
        XCTAssertEqual(S3XML.first("NextContinuationToken", in: xml), "t&1")
        XCTAssertNil(S3XML.first("IsTruncated", in: xml))
        let items = S3XML.elements(["Contents", "KeyCount"], in: xml)
        XCTAssertEqual(items.map(\.tag), ["KeyCount", "Contents", "Contents", "Contents"])
        XCTAssertEqual(items.dropFirst().map { S3XML.first("Key", in: $0.body) }, ["a/1", "a/<2> & €A", "é/ü/日本"])
    }

    func testUnclosedOrTruncatedDocumentsStopAtTheLastWholeElement() {
        XCTAssertEqual(S3XML.values("Key", in: "<Key>a</Key><Key>b</Ke"), ["a"])
        XCTAssertEqual(S3XML.values("Key", in: "<Key>a</Key><Key>"), ["a"])
        XCTAssertEqual(S3XML.values("Key", in: "<Ke"), [])
        XCTAssertEqual(S3XML.values("Key", in: ""), [])
        XCTAssertEqual(S3XML.values("Key", in: "<Key></Key>"), [""])
    }

    /// A full listing page, and one of 20,000 keys: every key, in order.
    func testLargeListings() {
        for count in [1_000, 20_000] {
            let keys = (0..<count).map { "cairn/data/\(String(format: "%02x", $0 % 256))/\(String(repeating: "f", count: 56))\(String(format: "%08d", $0))" }
            let xml = "<ListBucketResult>" + keys.map { "<Contents><Key>\($0)</Key><Size>\($0.count)</Size></Contents>" }.joined() + "</ListBucketResult>"
            XCTAssertEqual(S3XML.values("Key", in: xml), keys)
            XCTAssertEqual(S3XML.elements(["Contents"], in: xml).count, count)
        }
    }

    /// A versions listing (the Object Lock sweep): versions and delete markers in document order,
    /// also on a page that holds only delete markers (the first name asked for absent).
    func testElementsOfSeveralNamesInDocumentOrder() {
        let mixed = "<ListVersionsResult><Version><Key>a</Key></Version><DeleteMarker><Key>b</Key></DeleteMarker>"
            + "<DeleteMarker><Key>c</Key></DeleteMarker><Version><Key>d</Key></Version></ListVersionsResult>"
        let items = S3XML.elements(["Version", "DeleteMarker"], in: mixed)
        XCTAssertEqual(items.map(\.tag), ["Version", "DeleteMarker", "DeleteMarker", "Version"])
        XCTAssertEqual(items.map { S3XML.first("Key", in: $0.body) }, ["a", "b", "c", "d"])
        let keys = (0..<20_000).map { "cairn/locks/\($0)" }
        let markersOnly = "<ListVersionsResult>" + keys.map { "<DeleteMarker><Key>\($0)</Key></DeleteMarker>" }.joined() + "</ListVersionsResult>"
        let markers = S3XML.elements(["Version", "DeleteMarker"], in: markersOnly)
        XCTAssertEqual(markers.map { S3XML.first("Key", in: $0.body) }, keys)
        XCTAssertEqual(Set(markers.map(\.tag)), ["DeleteMarker"])
    }
}
