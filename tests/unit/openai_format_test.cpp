#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "formats/openai/openai.hpp"
#include "formats/openai/stream_inspect.hpp"

using namespace anygpt;
using namespace anygpt::formats::openai;
namespace json = boost::json;

TEST(OpenAiFormat, ErrorBodyHasOpenAiShape) {
  auto body = json::parse(error_body(core::make_error(core::ErrorKind::kInvalidRequest, "bad", "model", "c")));
  const auto& e = body.at("error");
  EXPECT_EQ(e.at("message").as_string(), "bad");
  EXPECT_EQ(e.at("type").as_string(), "invalid_request_error");
  EXPECT_EQ(e.at("param").as_string(), "model");
  EXPECT_EQ(e.at("code").as_string(), "c");
  auto body2 = json::parse(error_body(core::make_error(core::ErrorKind::kInternal, "x")));
  EXPECT_TRUE(body2.at("error").at("param").is_null());
}

TEST(OpenAiFormat, AcceptsToolsMultipartAndToolMessages) {
  auto v = json::parse(R"({"model":"m","stream":true,"stream_options":{"include_usage":true},
    "messages":[{"role":"system","content":"s"},
      {"role":"user","content":[{"type":"text","text":"hi"},{"type":"image_url","image_url":{"url":"data:x"}},
                                {"type":"input_audio","input_audio":{"data":"AAA","format":"wav"}}]},
      {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"c1","content":"42"}],
    "tools":[{"type":"function","function":{"name":"f"}}],"unknown_field":1})");
  auto r = inspect_chat_request(v);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->model, "m");
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
}

TEST(OpenAiFormat, RejectsBadFieldsNamingThem) {
  struct Case {
    const char* body;
    const char* param;
  };
  Case cases[] = {
      {R"({"messages":[{"role":"user","content":"x"}]})", "model"},
      {R"({"model":"m"})", "messages"},
      {R"({"model":"m","messages":[]})", "messages"},
      {R"({"model":"m","messages":[{"content":"x"}]})", "messages[0].role"},
      {R"({"model":"m","messages":[{"role":"user","content":5}]})", "messages[0].content"},
      {R"({"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]})", "messages[0].content[0].text"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0})", "max_tokens"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"})", "stream"},
  };
  for (const auto& c : cases) {
    auto r = inspect_chat_request(json::parse(c.body));
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().param, c.param) << c.body;
    EXPECT_EQ(r.error().kind, core::ErrorKind::kInvalidRequest);
  }
}

TEST(OpenAiFormat, UsageIsReadFromEitherNaming) {
  auto u =
      usage_from(json::parse(R"({"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}})").as_object());
  EXPECT_TRUE(u.present);
  EXPECT_EQ(u.total_tokens, 7);
  auto u2 = usage_from(json::parse(R"({"usage":{"input_tokens":3,"output_tokens":4}})").as_object());
  EXPECT_EQ(u2.total_tokens, 7);
  EXPECT_FALSE(usage_from(json::parse(R"({"usage":null})").as_object()).present);
}

TEST(SseSplitter, SplitsEventsAcrossReadsAndLineEndings) {
  SseSplitter s;
  s.append("data: {\"a\":1}\n\nda");
  auto e1 = s.next_event();
  ASSERT_TRUE(e1);
  EXPECT_EQ(*e1, "data: {\"a\":1}");
  EXPECT_FALSE(s.next_event());
  s.append("ta: x\r\n\r\ndata: [DONE]\n\n");
  auto e2 = s.next_event();
  ASSERT_TRUE(e2);
  EXPECT_EQ(event_data(*e2).value(), "x");
  auto e3 = s.next_event();
  ASSERT_TRUE(e3);
  EXPECT_EQ(event_data(*e3).value(), "[DONE]");
  EXPECT_FALSE(s.next_event());
  EXPECT_TRUE(s.empty());
}

TEST(SseSplitter, MultiLineDataIsJoined) {
  EXPECT_EQ(event_data("event: x\ndata: a\ndata: b").value(), "a\nb");
  EXPECT_FALSE(event_data(": comment").has_value());
}

TEST(OpenAiFormat, UsageFromBodyReadsOnlyTheUsageObject) {
  auto u = usage_from_body(
      R"({"id":"x","choices":[{"message":{"content":"the word \"usage\": {tricky}"}}],)"
      R"("usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,"completion_tokens_details":{"reasoning_tokens":1}}})");
  ASSERT_TRUE(u.has_value());
  EXPECT_TRUE(u->present);
  EXPECT_EQ(u->total_tokens, 7);
  auto none = usage_from_body(R"({"id":"x","usage":null})");
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->present);
  EXPECT_FALSE(usage_from_body("not json").has_value());
  EXPECT_FALSE(usage_from_body("[1,2]").has_value());
  EXPECT_FALSE(usage_from_body(R"({"usage":{"prompt_tokens":1)").has_value());
}

TEST(OpenAiFormat, HasUsageObjectIgnoresNullUsage) {
  EXPECT_FALSE(has_usage_object(R"(data: {"choices":[{"delta":{"content":"x"}}],"usage":null})"));
  EXPECT_TRUE(has_usage_object(R"(data: {"choices":[],"usage" : {"total_tokens":3}})"));
  EXPECT_FALSE(has_usage_object(R"(data: {"choices":[{"delta":{"content":"the \"usage\" word"}}]})"));
}

namespace anygpt::formats::openai {
namespace {

TEST(InspectEvent, TellsChunksDoneMalformedAndComments) {
  using Kind = EventInfo::Kind;
  EXPECT_EQ(inspect_event("data: [DONE]").kind, Kind::kDone);
  EXPECT_EQ(inspect_event(": keep-alive").kind, Kind::kNoData);
  EXPECT_EQ(inspect_event("data: {this is not json").kind, Kind::kMalformed);
  EXPECT_EQ(inspect_event("data: [1,2]").kind, Kind::kMalformed) << "a chunk is an object";
  EXPECT_EQ(inspect_event("data: {\"a\":1} trailing").kind, Kind::kMalformed);
  auto e = inspect_event(R"(data: {"choices":[{"delta":{"content":"héllo"}}],"usage":null})");
  EXPECT_EQ(e.kind, Kind::kChunk);
  EXPECT_FALSE(e.has_usage);
  EXPECT_EQ(e.delivered_chars, 5u) << "code points, not bytes";
}

TEST(InspectEvent, FindsTopLevelUsageAndToolArguments) {
  auto u = inspect_event(
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}");
  EXPECT_TRUE(u.has_usage);
  auto nested = inspect_event(R"(data: {"choices":[{"delta":{"usage":{"x":1}}}]})");
  EXPECT_FALSE(nested.has_usage) << "only a top-level usage counts";
  auto tool = inspect_event(
      R"(data: {"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":1}"}}]}}]})");
  EXPECT_EQ(tool.delivered_chars, 7u);
  EXPECT_EQ(estimate_tokens(7), 2);
  EXPECT_EQ(estimate_tokens(0), 0);
}

TEST(InspectEvent, TranscriptEventsAreContent) {
  auto delta = inspect_event(R"(data: {"type":"transcript.text.delta","delta":"héllo"})");
  EXPECT_TRUE(delta.content) << "commits the stream at the first delta";
  EXPECT_EQ(delta.delivered_chars, 5u);
  auto done = inspect_event(R"(data: {"type":"transcript.text.done","text":"héllo","usage":{"total_tokens":3}})");
  EXPECT_TRUE(done.content);
  EXPECT_EQ(done.delivered_chars, 0u) << "the whole text is not counted twice";
  EXPECT_TRUE(done.has_usage);
  EXPECT_EQ(inspect_event(R"(data: {"choices":[{"delta":{"role":"assistant"}}]})").delivered_chars, 0u);
}

TEST(InspectEvent, CapturesDeltaContentAndFlagsToolCallsAndFinishes) {
  std::string text = "so far: ";
  auto e = inspect_event(R"(data: {"choices":[{"delta":{"content":"a\"b\u00e9"},"logprobs":{"content":[]}}]})", &text);
  EXPECT_EQ(text, "so far: a\"b\xc3\xa9") << "decoded, appended";
  EXPECT_FALSE(e.tool_call);
  EXPECT_FALSE(e.finish);
  auto tool = inspect_event(R"(data: {"choices":[{"delta":{"tool_calls":[{"index":0}]}}]})", &text);
  EXPECT_TRUE(tool.tool_call);
  auto none = inspect_event(R"(data: {"choices":[{"delta":{"tool_calls":null},"finish_reason":null}]})", &text);
  EXPECT_FALSE(none.tool_call);
  EXPECT_FALSE(none.finish);
  EXPECT_TRUE(inspect_event(R"(data: {"choices":[{"delta":{},"finish_reason":"stop"}]})", &text).finish);
  inspect_event(R"(data: {"choices":[{"delta":{"content":"lost"}}] trailing)", &text);
  EXPECT_EQ(text, "so far: a\"b\xc3\xa9") << "a malformed event captures nothing";
}

}  // namespace
}  // namespace anygpt::formats::openai
