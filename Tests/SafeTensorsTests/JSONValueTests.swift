import Foundation
import Testing
@testable import SafeTensors

@Suite("JSON")
struct JSONValueTests {
    @Test func parsesWhatFoundationParses() throws {
        let text = #" {"a": [1, -2.5e3, true, false, null, "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"], "b": {}, "c": []} "#
        let value = try JSONValue.parse(Array(text.utf8))
        #expect(value["a"]?.elements?.count == 6)
        #expect(value["a"]?.elements?[0].integer == 1)
        #expect(value["a"]?.elements?[1].integer == nil && value["a"]?.elements?[1].double == -2500)
        #expect(value["a"]?.elements?[5].string == "x\"\\/\u{8}\u{c}\n\r\té😀")
        let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect((foundation["a"] as! [Any])[5] as? String == value["a"]?.elements?[5].string)
        #expect(value.members?.map(\.key) == ["a", "b", "c"])
    }

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, "duplicate key"),
        (#"{"a":{"b":1,"b":1}}"#, "duplicate key"),
        ("{\"\\u00e9\":1,\"e\\u0301\":2}", "duplicate key"),  // canonically equivalent keys
        (#"{"a":1,}"#, "object key"),
        (#"[1,]"#, "value was expected"),
        (#"01"#, "after the JSON value"),
        (#"1."#, "after '.'"),
        (#"-"#, "digit"),
        (#"1e"#, "exponent"),
        (#""\ud800""#, "lone leading surrogate"),
        (#""\udc00""#, "lone trailing surrogate"),
        (#""\ud800\u0041""#, "not followed by a trailing"),
        (#""\x""#, "invalid escape"),
        (#""\u12zz""#, "hex digit"),
        (#""\u12""#, "truncated"),
        ("\"a\u{1}\"", "control character"),
        (#""abc"#, "unterminated"),
        (#"tru"#, "truncated literal"),
        (#"nul"#, "truncated literal"),
        (#"{"a" 1}"#, "':'"),
        ("", "unexpected end of input"),
    ])
    func rejects(text: String, fault: String) {
        do {
            _ = try JSONValue.parse(Array(text.utf8))
            Issue.record("\(text): parsed")
        } catch let error as JSONParseError {
            #expect(error.problem.contains(fault), "\(text): \(error)")
        } catch {
            Issue.record("\(text): \(error)")
        }
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Array(repeating: UInt8(ascii: "["), count: 1 << 20)) }
        let nested = String(repeating: "[", count: JSONValue.maximumDepth) + String(repeating: "]", count: JSONValue.maximumDepth)
        #expect((try? JSONValue.parse(Array(nested.utf8))) != nil)
    }

    @Test func integersAreExactAndBounded() {
        #expect(JSONValue.number("9223372036854775807").integer == Int.max)
        #expect(JSONValue.number("9223372036854775808").integer == nil)
        #expect(JSONValue.number("-0").integer == 0)
        #expect(JSONValue.number("4.0").integer == nil)
        #expect(JSONValue.number("4E0").integer == nil)
    }
}
