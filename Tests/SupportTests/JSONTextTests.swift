import Foundation
import Support
import Testing

/// The one JSON writer, laid out as Python's `json` module writes (the evaluation results, adapter and
/// trainer files compare it with Python's output byte for byte).
@Suite struct JSONTextTests {
    @Test func stringsAsPythonEscapesThem() {
        #expect(JSONText.quoted("say \"hi\"\\\n\r\t\u{08}\u{0C}\u{01}") == #""say \"hi\"\\\n\r\t\b\f\u0001""#)
        #expect(JSONText.quoted("5 µg") == "\"5 µg\"")
        #expect(JSONText.quoted("5 µg", asciiOnly: true) == #""5 \u00b5g""#)
        #expect(JSONText.quoted("\u{7F}", asciiOnly: true) == #""\u007f""#)
        #expect(JSONText.quoted("🙂", asciiOnly: true) == #""\ud83d\ude42""#)
        #expect(JSONText.quoted("cafe\u{301}", asciiOnly: true) == #""cafe\u0301""#)
    }

    @Test func floatsAsPythonsRepr() {
        #expect(JSONText.number(25) == "25.0")
        #expect(JSONText.number(-0.0) == "-0.0")
        #expect(JSONText.number(66.66666666666666) == "66.66666666666666")
        #expect(JSONText.number(0.0002) == "0.0002")
        #expect(JSONText.number(1e16) == "1e+16")
        #expect(JSONText.number(.nan) == "NaN")
        #expect(JSONText.number(-.infinity) == "-Infinity")
    }

    @Test func sortedAndOrderedObjects() {
        let value: [String: Any?] = ["r": 16, "alpha": 32.0, "modules": ["q_proj", "v_proj"], "bias": nil, "fan_in": false,
                                     "empty": [Any?](), "none": [String: Any?]()]
        #expect(JSONText.encode(value) == """
        {
          "alpha": 32.0,
          "bias": null,
          "empty": [],
          "fan_in": false,
          "modules": [
            "q_proj",
            "v_proj"
          ],
          "none": {},
          "r": 16
        }
        """)
        let ordered = JSONText.Ordered([("total", 2), ("indices", [3, 0]), ("rows", [JSONText.Ordered([("z", "é"), ("a", true)])])])
        #expect(JSONText.encode(ordered) == """
        {
          "total": 2,
          "indices": [
            3,
            0
          ],
          "rows": [
            {
              "z": "\\u00e9",
              "a": true
            }
          ]
        }
        """)
        #expect(JSONText.encode(JSONText.Ordered([])) == "{}")
        #expect(JSONText.encode(NSNull()) == "null")
    }
}
