#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "formats/common/event_scan.hpp"

using namespace anygpt::formats::common;

namespace {

constexpr std::array<std::string_view, 2> kText{"text", "content"};
constexpr std::array<std::string_view, 2> kMarks{"finishReason", "index"};
constexpr std::array<std::string_view, 1> kTop{"error"};
const EventScanSpec kSpec{kText, kMarks, kTop, "candidates", "usage", {}, {}};

TEST(EventScan, CountsTextKeysAtAnyDepthInCodePoints) {
  auto scan = scan_event(R"({"a":{"text":"héllo"},"b":[{"content":"日本"}],"other":"not counted","text":5})", kSpec);
  EXPECT_TRUE(scan.object);
  EXPECT_FALSE(scan.marked);
  EXPECT_EQ(scan.text_chars, 7u);
}

TEST(EventScan, EscapesAreCountedAsTheCharactersTheyStandFor) {
  auto scan = scan_event(R"({"text":"a\"b\u00e9\n"})", kSpec);
  EXPECT_EQ(scan.text_chars, 5u);
}

TEST(EventScan, MarksNeedAValueThatIsNotNullFalseOrZero) {
  for (const char* quiet : {R"({"finishReason":null})", R"({"index":0})", R"({"index":0.0})", R"({"x":{"index":0}})",
                            R"({"finishReason":false})", R"({"x":{"error":{"deep":"not top"}}})", R"({"error":null})"})
    EXPECT_FALSE(scan_event(quiet, kSpec).marked) << quiet;
  for (const char* loud :
       {R"({"finishReason":"STOP"})", R"({"finishReason":""})", R"({"a":[{"index":1}]})", R"({"index":true})",
        R"({"error":{"code":1}})", R"({"error":"x"})", R"({"x":{"finishReason":[]}})"})
    EXPECT_TRUE(scan_event(loud, kSpec).marked) << loud;
}

TEST(EventScan, CountsTheTopLevelArrayOnly) {
  EXPECT_EQ(scan_event(R"({"candidates":[{"a":[1,2,3]},{"b":{}},3]})", kSpec).array_items, 3u);
  EXPECT_EQ(scan_event(R"({"candidates":[]})", kSpec).array_items, 0u);
  EXPECT_EQ(scan_event(R"({"x":{"candidates":[1,2]}})", kSpec).array_items, 0u);
  for (const char* other : {R"({"candidates":{"0":1}})", R"({"candidates":null})", R"({"candidates":"many"})"}) {
    auto scan = scan_event(other, kSpec);
    EXPECT_EQ(scan.array_items, 0u) << other;
    EXPECT_TRUE(scan.marked) << other;  // not the array it should be: worth a full parse
  }
}

TEST(EventScan, ReportsTheTopLevelObject) {
  EXPECT_TRUE(scan_event(R"({"a":1,"usage":{"n":1}})", kSpec).has_reported);
  EXPECT_FALSE(scan_event(R"({"usage":null})", kSpec).has_reported);
  EXPECT_FALSE(scan_event(R"({"usage":[1]})", kSpec).has_reported);
  EXPECT_FALSE(scan_event(R"({"x":{"usage":{}}})", kSpec).has_reported);
}

TEST(EventScan, OnlyOneWholeObjectIsAnObject) {
  for (const char* bad :
       {"", "[1]", "42", "\"s\"", "{\"a\":", "{\"a\":1}{\"b\":2}", "{\"a\":1} x", "{\"text\":\"a\"} ]"}) {
    auto scan = scan_event(bad, kSpec);
    EXPECT_FALSE(scan.object) << bad;
    EXPECT_EQ(scan.text_chars, 0u) << bad;
    EXPECT_FALSE(scan.marked) << bad;
  }
  EXPECT_TRUE(scan_event(" {\"a\":1} \r\n", kSpec).object);
}

// Every split of a stream of values gives the same scans.
TEST(EventScanner, ValuesAreToldApartWhereverTheBytesAreSplit) {
  std::string stream = "{\"text\":\"ab\"}\n{\"finishReason\":\"STOP\",\"text\":\"c\"}{\"index\":0}\n  [1]\n";
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    EventScanner scanner(kSpec);
    std::vector<EventScan> scans;
    for (std::string_view piece : {std::string_view(stream).substr(0, split), std::string_view(stream).substr(split)}) {
      while (!piece.empty()) {
        std::error_code ec;
        auto n = scanner.write(piece, ec);
        ASSERT_FALSE(ec) << split;
        piece.remove_prefix(n);
        if (scanner.done()) scans.push_back(scanner.take());
      }
    }
    ASSERT_EQ(scans.size(), 4u) << split;
    EXPECT_TRUE(scans[0].object && !scans[0].marked && scans[0].text_chars == 2) << split;
    EXPECT_TRUE(scans[1].object && scans[1].marked && scans[1].text_chars == 1) << split;
    EXPECT_TRUE(scans[2].object && !scans[2].marked) << split;
    EXPECT_FALSE(scans[3].object) << split;
  }
}

TEST(EventScanner, TextThatIsNotJsonIsAnError) {
  EventScanner scanner(kSpec);
  std::error_code ec;
  scanner.write("{\"a\":tru}", ec);
  EXPECT_TRUE(ec);
}

TEST(SseEventName, TheEventFieldOfAnEvent) {
  EXPECT_EQ(sse_event_name("event: message_start\ndata: {}"), "message_start");
  EXPECT_EQ(sse_event_name("data: {}\r\nevent:ping\r\n"), "ping");
  EXPECT_EQ(sse_event_name("data: {}"), "");
  EXPECT_EQ(sse_event_name(": comment"), "");
}

TEST(EventScan, CapturesOneKeysStringsAndFlagsKeysWithValues) {
  constexpr std::array<std::string_view, 2> flags{"calls", "finish"};
  const EventScanSpec spec{kText, {}, {}, {}, {}, "content", flags};
  std::string captured;
  auto scan = scan_event(R"({"a":{"content":"x\ny"},"content":5,"calls":[1],"finish":null,"b":{"content":"z"}})", spec,
                         &captured);
  EXPECT_EQ(captured,
            "x\ny"
            "z")
      << "decoded, every depth, strings only";
  EXPECT_EQ(scan.flags, 1u) << "calls held a value, finish was null";
  EXPECT_EQ(scan_event(R"({"finish":"stop"})", spec).flags, 2u) << "no capture asked: flags still work";
}

}  // namespace
