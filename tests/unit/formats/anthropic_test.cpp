#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "formats/anthropic/answer.hpp"
#include "formats/anthropic/anthropic.hpp"
#include "formats/anthropic/request.hpp"
#include "formats/anthropic/stream.hpp"
#include "sse_events.hpp"

using namespace anygpt;
using namespace anygpt::formats;
namespace json = boost::json;
namespace an = anygpt::formats::anthropic;
using core::ErrorKind;

namespace {

json::value fixture(const std::string& name) {
  return format_tests::fixture("anthropic", name);
}

core::Result<Canonical> decode(std::string_view body) {
  return an::messages_codec().decode(json::parse(body), RouteParams{});
}

// The canonical messages of a request whose only varying part is `messages` (JSON array text).
json::value messages_of(std::string_view messages) {
  auto r = decode(R"({"model":"m","max_tokens":5,"messages":)" + std::string(messages) + "}");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return nullptr;
  return r->body.at("messages");
}

AnswerContext ctx() {
  return AnswerContext{"claude-test", "req1", false, false};
}

using Event = format_tests::SseEvent;
const auto& events = format_tests::sse_events;
const auto& types = format_tests::sse_types;

json::object chunk(std::string_view text) {
  return json::parse(text).as_object();
}

// Feeds chunks one at a time, keeping what each one produced.
struct StreamRun {
  std::unique_ptr<StreamEncoder> enc = an::messages_codec().stream(ctx());
  std::string all;
  std::string feed(std::string_view chunk_json) {
    std::string out;
    enc->chunk(chunk(chunk_json), Moment{}, out);
    all += out;
    return out;
  }
  std::string finish(std::int64_t prompt, std::int64_t completion) {
    std::string out;
    enc->finish(core::Usage{prompt, completion, prompt + completion, true}, Moment{}, out);
    all += out;
    return out;
  }
};

// What the SDK's MessageStream accumulates (text deltas appended, partial_json joined, usage
// overwritten by message_delta), checking block framing on the way.
struct Accumulated {
  json::object message;
  std::vector<std::string> json_bufs;
};
Accumulated accumulate(const std::vector<Event>& evs) {
  Accumulated acc;
  std::int64_t open = -1;
  for (const auto& e : evs) {
    const auto& d = e.data.as_object();
    if (e.type == "message_start") {
      acc.message = d.at("message").as_object();
    } else if (e.type == "content_block_start") {
      EXPECT_EQ(open, -1) << "blocks overlap";
      open = d.at("index").as_int64();
      EXPECT_EQ(open, static_cast<std::int64_t>(acc.message["content"].as_array().size()));
      acc.message["content"].as_array().push_back(d.at("content_block"));
      acc.json_bufs.emplace_back();
    } else if (e.type == "content_block_delta") {
      EXPECT_EQ(d.at("index").as_int64(), open);
      auto& block = acc.message["content"].as_array().at(open).as_object();
      const auto& delta = d.at("delta").as_object();
      if (delta.at("type") == "text_delta") {
        EXPECT_FALSE(delta.at("text").as_string().empty()) << "empty text delta";
        block["text"] = std::string(block["text"].as_string()) + std::string(delta.at("text").as_string());
      } else {
        acc.json_bufs.at(open) += delta.at("partial_json").as_string();
      }
    } else if (e.type == "content_block_stop") {
      EXPECT_EQ(d.at("index").as_int64(), open);
      open = -1;
    } else if (e.type == "message_delta") {
      EXPECT_EQ(open, -1) << "message_delta with an open block";
      acc.message["stop_reason"] = d.at("delta").at("stop_reason");
      for (const auto& [k, v] : d.at("usage").as_object()) acc.message["usage"].as_object()[k] = v;
    }
  }
  return acc;
}

}  // namespace

// ---- request decode ----

TEST(AnthropicRequest, FullFixtureMapsToCanonicalChat) {
  auto r = an::messages_codec().decode(fixture("request_full.json"), RouteParams{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, fixture("request_full.canonical.json")) << json::serialize(r->body);
  EXPECT_EQ(r->model, "claude-test");
  EXPECT_TRUE(r->stream);
  EXPECT_FALSE(r->same_bytes);
  EXPECT_EQ(r->op, Operation::kChat);
}

TEST(AnthropicRequest, MinimalRequestIsNotStreamed) {
  auto r = decode(R"({"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, json::parse(R"({"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]})"));
  EXPECT_FALSE(r->stream);
  EXPECT_EQ(r->model, "m");
}

TEST(AnthropicRequest, StreamFalseAndNullOptionalsAreOmitted) {
  auto r = decode(R"({"model":"m","max_tokens":10,"stream":false,"system":null,"tools":null,"tool_choice":null,
    "temperature":null,"top_k":null,"stop_sequences":[],"metadata":{"user_id":null},
    "messages":[{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, json::parse(R"({"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]})"));
}

TEST(AnthropicRequest, SystemPromptForms) {
  auto sys = [](std::string_view system) {
    auto r = decode(R"({"model":"m","max_tokens":1,"system":)" + std::string(system) +
                    R"(,"messages":[{"role":"user","content":"q"}]})");
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->body.at("messages") : json::value();
  };
  EXPECT_EQ(sys(R"("be brief")"),
            json::parse(R"([{"role":"system","content":"be brief"},{"role":"user","content":"q"}])"));
  EXPECT_EQ(sys(R"("  \n ")"), json::parse(R"([{"role":"user","content":"q"}])"));
  EXPECT_EQ(sys(R"([])"), json::parse(R"([{"role":"user","content":"q"}])"));
  EXPECT_EQ(sys(R"([{"type":"text","text":"a","cache_control":{"type":"ephemeral"}},{"type":"text","text":""},
                   {"type":"text","text":"b"}])"),
            json::parse(R"([{"role":"system","content":"a\n\nb"},{"role":"user","content":"q"}])"));
}

TEST(AnthropicRequest, SystemRoleMessagesStayInPlace) {
  EXPECT_EQ(messages_of(R"([{"role":"user","content":"a"},{"role":"system","content":[{"type":"text","text":"s"}]},
                            {"role":"system","content":" "}])"),
            json::parse(R"([{"role":"user","content":"a"},{"role":"system","content":"s"}])"));
}

TEST(AnthropicRequest, UserContentShapes) {
  EXPECT_EQ(messages_of(R"([{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":""},
                             {"type":"text","text":"b","citations":[]}]}])"),
            json::parse(R"([{"role":"user","content":"a\nb"}])"));
  EXPECT_EQ(messages_of(R"([{"role":"user","content":""}])"), json::parse(R"([{"role":"user","content":""}])"));
  EXPECT_EQ(messages_of(R"([{"role":"user","content":[]}])"), json::parse(R"([{"role":"user","content":""}])"));
  EXPECT_EQ(
      messages_of(R"([{"role":"user","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}])"),
      json::parse(R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}])"));
}

TEST(AnthropicRequest, ConsecutiveSameRoleTurnsStaySeparate) {
  EXPECT_EQ(messages_of(R"([{"role":"user","content":"a"},{"role":"user","content":"b"},
                            {"role":"assistant","content":"c"},{"role":"assistant","content":[{"type":"text","text":"d"}]}])"),
            json::parse(R"([{"role":"user","content":"a"},{"role":"user","content":"b"},
                            {"role":"assistant","content":"c"},{"role":"assistant","content":"d"}])"));
}

TEST(AnthropicRequest, AssistantToolUseOnlyHasNullContent) {
  EXPECT_EQ(messages_of(R"([{"role":"user","content":"q"},{"role":"assistant","content":[
                             {"type":"tool_use","id":"t1","name":"f"},
                             {"type":"tool_use","id":"t2","name":"g","input":{"a":[1,"é"]}}]}])"),
            json::parse(R"([{"role":"user","content":"q"},{"role":"assistant","content":null,"tool_calls":[
              {"id":"t1","type":"function","function":{"name":"f","arguments":"{}"}},
              {"id":"t2","type":"function","function":{"name":"g","arguments":"{\"a\":[1,\"é\"]}"}}]}])"));
}

TEST(AnthropicRequest, ThinkingBlocksAreDroppedAndEmptyAssistantTurnsOmitted) {
  EXPECT_EQ(messages_of(R"([{"role":"user","content":"q"},
                            {"role":"assistant","content":[{"type":"thinking","thinking":"x","signature":"s"},
                                                           {"type":"redacted_thinking","data":"zz"}]},
                            {"role":"assistant","content":""},
                            {"role":"user","content":"again"}])"),
            json::parse(R"([{"role":"user","content":"q"},{"role":"user","content":"again"}])"));
}

TEST(AnthropicRequest, ToolResultsComeBeforeTheTurnsText) {
  EXPECT_EQ(messages_of(R"([{"role":"user","content":[
                             {"type":"text","text":"thanks"},
                             {"type":"tool_result","tool_use_id":"t1","content":"42"},
                             {"type":"tool_result","tool_use_id":"t2"},
                             {"type":"tool_result","tool_use_id":"t3","is_error":true,"content":[{"type":"text","text":"boom"}]},
                             {"type":"tool_result","tool_use_id":"t4","is_error":false,"content":[]}]}])"),
            json::parse(R"([{"role":"tool","tool_call_id":"t1","content":"42"},
                            {"role":"tool","tool_call_id":"t2","content":""},
                            {"role":"tool","tool_call_id":"t3","content":"Error: boom"},
                            {"role":"tool","tool_call_id":"t4","content":""},
                            {"role":"user","content":"thanks"}])"));
}

TEST(AnthropicRequest, ToolResultsAloneMakeNoUserMessage) {
  EXPECT_EQ(messages_of(R"([{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}])"),
            json::parse(R"([{"role":"tool","tool_call_id":"t1","content":"ok"}])"));
}

TEST(AnthropicRequest, ToolResultImagesMoveToTheFollowingUserMessage) {
  EXPECT_EQ(messages_of(R"([{"role":"user","content":[
                             {"type":"tool_result","tool_use_id":"t1","content":[
                               {"type":"text","text":"screenshot:"},
                               {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"AAA"}}]},
                             {"type":"text","text":"what now?"}]}])"),
            json::parse(R"([{"role":"tool","tool_call_id":"t1","content":"screenshot:\n[image attached below]"},
                            {"role":"user","content":[
                              {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,AAA"}},
                              {"type":"text","text":"what now?"}]}])"));
}

TEST(AnthropicRequest, ToolsAndToolChoice) {
  auto body = [](std::string_view extra) {
    auto r =
        decode(R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"q"}],)" + std::string(extra) + "}");
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r->body.as_object() : json::object();
  };
  std::string tools = R"("tools":[{"name":"f","input_schema":{"type":"object"},"strict":true}])";
  auto b = body(tools);
  EXPECT_EQ(
      b["tools"],
      json::parse(R"([{"type":"function","function":{"name":"f","parameters":{"type":"object"},"strict":true}}])"));
  EXPECT_FALSE(b.contains("tool_choice"));
  EXPECT_EQ(body(tools + R"(,"tool_choice":{"type":"auto"})")["tool_choice"], "auto");
  EXPECT_EQ(body(tools + R"(,"tool_choice":{"type":"any"})")["tool_choice"], "required");
  EXPECT_EQ(body(tools + R"(,"tool_choice":{"type":"none"})")["tool_choice"], "none");
  auto named = body(tools + R"(,"tool_choice":{"type":"tool","name":"f","disable_parallel_tool_use":true})");
  EXPECT_EQ(named["tool_choice"], json::parse(R"({"type":"function","function":{"name":"f"}})"));
  EXPECT_EQ(named["parallel_tool_calls"], false);
  EXPECT_FALSE(body(tools + R"(,"tool_choice":{"type":"auto","disable_parallel_tool_use":false})")
                   .contains("parallel_tool_calls"));
  auto no_tools = body(R"("tools":[],"tool_choice":{"type":"any","disable_parallel_tool_use":true})");
  EXPECT_FALSE(no_tools.contains("tools"));
  EXPECT_FALSE(no_tools.contains("tool_choice"));
  EXPECT_FALSE(no_tools.contains("parallel_tool_calls"));
}

TEST(AnthropicRequest, SamplingFieldsAndIgnoredFields) {
  auto r = decode(R"({"model":"m","max_tokens":7,"temperature":1,"top_p":0.5,"top_k":3,"stop_sequences":["a","b"],
    "metadata":{"user_id":"u"},"thinking":{"type":"adaptive"},"container":"c","output_config":{},"whatever":[1],
    "messages":[{"role":"user","content":"q"}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, json::parse(R"({"model":"m","max_tokens":7,"temperature":1,"top_p":0.5,"top_k":3,"stop":["a","b"],
    "user":"u","messages":[{"role":"user","content":"q"}]})"));
}

TEST(AnthropicRequest, EveryErrorNamesItsField) {
  struct Case {
    std::string body;
    const char* param;
  };
  const std::string ok_msgs = R"("messages":[{"role":"user","content":"q"}])";
  auto with = [&](std::string_view extra) {
    return R"({"model":"m","max_tokens":5,)" + ok_msgs + "," + std::string(extra) + "}";
  };
  auto msgs = [](std::string_view m) { return R"({"model":"m","max_tokens":5,"messages":)" + std::string(m) + "}"; };
  std::vector<Case> cases = {
      {"[]", ""},
      {R"({"max_tokens":5,)" + ok_msgs + "}", "model"},
      {R"({"model":"","max_tokens":5,)" + ok_msgs + "}", "model"},
      {R"({"model":7,"max_tokens":5,)" + ok_msgs + "}", "model"},
      {R"({"model":"m",)" + ok_msgs + "}", "max_tokens"},
      {R"({"model":"m","max_tokens":0,)" + ok_msgs + "}", "max_tokens"},
      {R"({"model":"m","max_tokens":-3,)" + ok_msgs + "}", "max_tokens"},
      {R"({"model":"m","max_tokens":2.5,)" + ok_msgs + "}", "max_tokens"},
      {R"({"model":"m","max_tokens":"5",)" + ok_msgs + "}", "max_tokens"},
      {R"({"model":"m","max_tokens":5})", "messages"},
      {msgs("{}"), "messages"},
      {msgs("[]"), "messages"},
      {msgs("[3]"), "messages[0]"},
      {msgs(R"([{"content":"x"}])"), "messages[0].role"},
      {msgs(R"([{"role":"user","content":"x"},{"role":"tool","content":"x"}])"), "messages[1].role"},
      {msgs(R"([{"role":"user"}])"), "messages[0].content"},
      {msgs(R"([{"role":"user","content":5}])"), "messages[0].content"},
      {msgs(R"([{"role":"user","content":["x"]}])"), "messages[0].content[0]"},
      {msgs(R"([{"role":"user","content":[{"text":"x"}]}])"), "messages[0].content[0].type"},
      {msgs(R"([{"role":"user","content":[{"type":"text"}]}])"), "messages[0].content[0].text"},
      {msgs(R"([{"role":"user","content":[{"type":"text","text":"a"},{"type":"document","source":{}}]}])"),
       "messages[0].content[1].type"},
      {msgs(R"([{"role":"user","content":[{"type":"search_result"}]}])"), "messages[0].content[0].type"},
      {msgs(R"([{"role":"assistant","content":[{"type":"server_tool_use","id":"s","name":"web_search"}]}])"),
       "messages[0].content[0].type"},
      {msgs(R"([{"role":"assistant","content":[{"type":"image","source":{"type":"url","url":"u"}}]}])"),
       "messages[0].content[0].type"},
      {msgs(R"([{"role":"assistant","content":[{"type":"tool_result","tool_use_id":"t"}]}])"),
       "messages[0].content[0].type"},
      {msgs(R"([{"role":"user","content":[{"type":"tool_use","id":"t","name":"f"}]}])"), "messages[0].content[0].type"},
      {msgs(R"([{"role":"user","content":[{"type":"image"}]}])"), "messages[0].content[0].source"},
      {msgs(R"([{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f"}}]}])"),
       "messages[0].content[0].source.type"},
      {msgs(R"([{"role":"user","content":[{"type":"image","source":{"type":"base64","data":"A"}}]}])"),
       "messages[0].content[0].source"},
      {msgs(R"([{"role":"user","content":[{"type":"image","source":{"type":"url"}}]}])"),
       "messages[0].content[0].source.url"},
      {msgs(R"([{"role":"assistant","content":[{"type":"tool_use","name":"f"}]}])"), "messages[0].content[0].id"},
      {msgs(R"([{"role":"assistant","content":[{"type":"tool_use","id":"t"}]}])"), "messages[0].content[0].name"},
      {msgs(R"([{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":"x"}]}])"),
       "messages[0].content[0].input"},
      {msgs(R"([{"role":"user","content":[{"type":"tool_result","content":"x"}]}])"),
       "messages[0].content[0].tool_use_id"},
      {msgs(R"([{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":5}]}])"),
       "messages[0].content[0].content"},
      {msgs(
           R"([{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"document"}]}]}])"),
       "messages[0].content[0].content[0].type"},
      {msgs(R"([{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"image"}]}]}])"),
       "messages[0].content[0].content[0].source"},
      {msgs(R"([{"role":"system","content":[{"type":"image"}]}])"), "messages[0].content[0].type"},
      {with(R"("system":5)"), "system"},
      {with(R"("system":[{"type":"image"}])"), "system[0].type"},
      {with(R"("system":[{"type":"text"}])"), "system[0].text"},
      {with(R"("stream":"yes")"), "stream"},
      {with(R"("temperature":"hot")"), "temperature"},
      {with(R"("top_p":true)"), "top_p"},
      {with(R"("top_k":1.5)"), "top_k"},
      {with(R"("stop_sequences":"END")"), "stop_sequences"},
      {with(R"("stop_sequences":["a",1])"), "stop_sequences[1]"},
      {with(R"("metadata":"u")"), "metadata"},
      {with(R"("metadata":{"user_id":5})"), "metadata.user_id"},
      {with(R"("tools":{})"), "tools"},
      {with(R"("tools":[1])"), "tools[0]"},
      {with(R"("tools":[{"name":"f","input_schema":{}},{"type":"web_search_20250305","name":"web_search"}])"),
       "tools[1].type"},
      {with(R"("tools":[{"type":"bash_20250124","name":"bash"}])"), "tools[0].type"},
      {with(R"("tools":[{"type":7,"name":"f","input_schema":{}}])"), "tools[0].type"},
      {with(R"("tools":[{"input_schema":{}}])"), "tools[0].name"},
      {with(R"("tools":[{"name":"f"}])"), "tools[0].input_schema"},
      {with(R"("tools":[{"name":"f","input_schema":"object"}])"), "tools[0].input_schema"},
      {with(R"("tool_choice":"auto")"), "tool_choice"},
      {with(R"("tool_choice":{"type":"sometimes"})"), "tool_choice.type"},
      {with(R"("tool_choice":{"type":"tool"})"), "tool_choice.name"},
  };
  for (const auto& c : cases) {
    auto r = decode(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest) << c.body;
    EXPECT_EQ(r.error().param, c.param) << c.body << " -> " << r.error().message;
    EXPECT_FALSE(r.error().message.empty());
    EXPECT_EQ(an::protocol().error_status(r.error()), 400u);
  }
}

TEST(AnthropicRequest, ErrorMessagesAreSpecific) {
  auto r = decode(R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"q"}],
                      "tools":[{"type":"web_search_20250305","name":"web_search"}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("web_search_20250305"), std::string::npos) << r.error().message;
  auto d = decode(R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document"}]}]})");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("document"), std::string::npos) << d.error().message;
}

TEST(AnthropicCountTokens, NeedsNoMaxTokensAndEstimatesTheCanonicalPrompt) {
  std::string body =
      R"({"model":"m","system":"You are a helpful assistant.","messages":[{"role":"user","content":"Hello there, how are you?"}],
    "tools":[{"name":"get_weather","description":"d","input_schema":{"type":"object"}}]})";
  auto n = an::count_tokens(json::parse(body));
  ASSERT_TRUE(n.ok()) << n.error().message;
  auto canonical = an::decode_request(json::parse(body), false);
  ASSERT_TRUE(canonical.ok());
  EXPECT_EQ(*n, common::estimate_prompt_tokens(canonical->body.as_object()));
  EXPECT_GT(*n, 8);  // two messages at 4 each plus their text
  auto bad = an::count_tokens(json::parse(R"({"model":"m"})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().param, "messages");
  auto bad_model = an::count_tokens(json::parse(R"({"messages":[{"role":"user","content":"q"}]})"));
  ASSERT_FALSE(bad_model.ok());
  EXPECT_EQ(bad_model.error().param, "model");
  EXPECT_EQ(json::parse(an::count_tokens_body(42)), json::parse(R"({"input_tokens":42})"));
}

// ---- answer encode ----

TEST(AnthropicAnswer, FixtureWithToolsAndCachedUsage) {
  auto out = an::messages_codec().encode(fixture("answer_tools.json").as_object(), ctx(), Moment{});
  EXPECT_EQ(json::parse(out), fixture("answer_tools.message.json")) << out;
  EXPECT_EQ(an::messages_codec().content_type(), "application/json");
  EXPECT_FALSE(an::messages_codec().relays_answer());
}

TEST(AnthropicAnswer, TextAnswer) {
  auto out = json::parse(an::messages_codec().encode(
      chunk(R"({"id":"x","choices":[{"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}],
                "usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}})"),
      ctx(), Moment{}));
  EXPECT_EQ(out, json::parse(R"({"id":"msg_x","type":"message","role":"assistant","model":"claude-test",
    "content":[{"type":"text","text":"Hi!"}],"stop_reason":"end_turn","stop_sequence":null,
    "usage":{"input_tokens":5,"output_tokens":2}})"));
}

TEST(AnthropicAnswer, StopReasons) {
  struct Case {
    const char* finish;
    bool tools;
    const char* expected;
  };
  Case cases[] = {{"\"stop\"", false, "end_turn"},          {"\"length\"", false, "max_tokens"},
                  {"\"tool_calls\"", true, "tool_use"},     {"\"function_call\"", false, "tool_use"},
                  {"\"content_filter\"", false, "refusal"}, {"null", false, "end_turn"},
                  {"\"eos\"", false, "end_turn"},           {"\"stop\"", true, "tool_use"},
                  {"\"length\"", true, "max_tokens"}};
  for (const auto& c : cases) {
    std::string calls =
        c.tools ? R"(,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}])" : "";
    auto answer =
        chunk(R"({"choices":[{"message":{"content":"t")" + calls + R"(},"finish_reason":)" + c.finish + "}]}");
    auto out = json::parse(an::messages_codec().encode(answer, ctx(), Moment{}));
    EXPECT_EQ(out.at("stop_reason"), c.expected) << c.finish << " tools=" << c.tools;
  }
  EXPECT_EQ(an::stop_reason("", false), "end_turn");
}

TEST(AnthropicAnswer, OddAnswers) {
  auto enc = [](std::string_view answer) {
    return json::parse(an::messages_codec().encode(chunk(answer), ctx(), Moment{})).as_object();
  };
  auto empty = enc(R"({"id":"...","choices":[{"message":{"role":"assistant","content":""},"finish_reason":"stop"}]})");
  EXPECT_EQ(empty["content"], json::array{});
  EXPECT_EQ(empty["id"], "msg_req1");
  EXPECT_EQ(empty["usage"], json::parse(R"({"input_tokens":0,"output_tokens":0})"));
  EXPECT_EQ(enc(R"({"choices":[]})")["content"], json::array{});
  EXPECT_EQ(enc(R"({"choices":[]})")["stop_reason"], "end_turn");
  EXPECT_EQ(enc(R"({"choices":[{"message":{"content":null}}]})")["content"], json::array{});
  EXPECT_EQ(enc(R"({"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}}]})")
                ["content"],
            json::parse(R"([{"type":"text","text":"ab"}])"));
  EXPECT_EQ(enc(R"({"choices":[{"message":{"content":null,"refusal":"I can't."},"finish_reason":"content_filter"}]})")
                ["content"],
            json::parse(R"([{"type":"text","text":"I can't."}])"));
  auto tools = enc(R"({"choices":[{"message":{"content":null,"tool_calls":[
      {"type":"function","function":{"name":"f","arguments":"not json"}}, 7, {"id":"z"}]},"finish_reason":"tool_calls"}]})");
  EXPECT_EQ(tools["content"],
            json::parse(R"([{"type":"tool_use","id":"toolu_req1_0","name":"f","input":{"_raw":"not json"}}])"));
  auto legacy = enc(
      R"({"choices":[{"message":{"function_call":{"name":"g","arguments":"{\"a\":1}"}},"finish_reason":"function_call"}]})");
  EXPECT_EQ(legacy["content"], json::parse(R"([{"type":"tool_use","id":"toolu_req1_0","name":"g","input":{"a":1}}])"));
  EXPECT_EQ(legacy["stop_reason"], "tool_use");
}

TEST(AnthropicAnswer, IdsAndUsageHelpers) {
  EXPECT_EQ(an::message_id("chatcmpl-9x.Y", "r"), "msg_chatcmpl9xY");
  EXPECT_EQ(an::message_id("", "r-1"), "msg_r1");
  EXPECT_EQ(an::message_id("---", "r1"), "msg_r1");
  EXPECT_EQ(an::tool_use_id("call_1", "r", 3), "call_1");
  EXPECT_EQ(an::tool_use_id("", "r", 3), "toolu_r_3");
  EXPECT_EQ(json::value(an::usage_object(core::Usage{10, 4, 14, true}, 0)),
            json::parse(R"({"input_tokens":10,"output_tokens":4})"));
  EXPECT_EQ(json::value(an::usage_object(core::Usage{10, 4, 14, true}, 25)),
            json::parse(R"({"input_tokens":0,"output_tokens":4,"cache_read_input_tokens":10})"));
}

// ---- stream encode ----

TEST(AnthropicStream, TextStreamEventByEvent) {
  StreamRun run;
  EXPECT_EQ(run.enc->content_type(), "text/event-stream");
  auto first =
      events(run.feed(R"({"id":"chatcmpl-1","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})"));
  ASSERT_EQ(types(first), (std::vector<std::string>{"message_start"}));
  EXPECT_EQ(first[0].data.at("message"), json::parse(R"({"id":"msg_chatcmpl1","type":"message","role":"assistant",
    "model":"claude-test","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}})"));
  auto hello = events(run.feed(R"({"choices":[{"delta":{"content":"Hel"}}]})"));
  ASSERT_EQ(types(hello), (std::vector<std::string>{"content_block_start", "content_block_delta"}));
  EXPECT_EQ(hello[0].data,
            json::parse(R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"));
  EXPECT_EQ(hello[1].data,
            json::parse(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}})"));
  auto lo = events(run.feed(R"({"choices":[{"delta":{"content":"lo"}}]})"));
  ASSERT_EQ(types(lo), (std::vector<std::string>{"content_block_delta"}));
  EXPECT_TRUE(run.feed(R"({"choices":[{"delta":{"content":""}}]})").empty());
  auto fin = events(run.feed(R"({"choices":[{"delta":{},"finish_reason":"stop"}]})"));
  ASSERT_EQ(types(fin), (std::vector<std::string>{"content_block_stop"}));
  EXPECT_EQ(fin[0].data, json::parse(R"({"type":"content_block_stop","index":0})"));
  EXPECT_TRUE(
      run.feed(R"({"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}})").empty());
  auto end = events(run.finish(9, 2));
  ASSERT_EQ(types(end), (std::vector<std::string>{"message_delta", "message_stop"}));
  EXPECT_EQ(end[0].data, json::parse(R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},
    "usage":{"input_tokens":9,"output_tokens":2}})"));
  auto acc = accumulate(events(run.all));
  EXPECT_EQ(acc.message["content"], json::parse(R"([{"type":"text","text":"Hello"}])"));
  EXPECT_EQ(acc.message["usage"], json::parse(R"({"input_tokens":9,"output_tokens":2})"));
  EXPECT_EQ(acc.message["stop_reason"], "end_turn");
}

TEST(AnthropicStream, ToolOnlyStreamWithSplitArgumentsAndZeroArgumentCall) {
  StreamRun run;
  run.feed(R"({"id":"c","choices":[{"delta":{"role":"assistant","content":null}}]})");
  auto start = events(run.feed(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function",
                                    "function":{"name":"get_weather","arguments":""}}]}}]})"));
  ASSERT_EQ(types(start), (std::vector<std::string>{"content_block_start"}));
  EXPECT_EQ(start[0].data, json::parse(R"({"type":"content_block_start","index":0,
    "content_block":{"type":"tool_use","id":"call_a","name":"get_weather","input":{}}})"));
  auto part =
      events(run.feed(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"loca"}}]}}]})"));
  ASSERT_EQ(types(part), (std::vector<std::string>{"content_block_delta"}));
  EXPECT_EQ(part[0].data.at("delta"), json::parse(R"({"type":"input_json_delta","partial_json":"{\"loca"})"));
  run.feed(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"tion\":\"Paris\"}"}}]}}]})");
  auto second = events(
      run.feed(R"({"choices":[{"delta":{"tool_calls":[{"index":1,"id":"call_b","function":{"name":"get_time"}}]}}]})"));
  ASSERT_EQ(types(second), (std::vector<std::string>{"content_block_stop", "content_block_start"}));
  EXPECT_EQ(second[0].data.at("index"), 0);
  EXPECT_EQ(second[1].data.at("index"), 1);
  auto fin = events(run.feed(R"({"choices":[{"delta":{},"finish_reason":"tool_calls"}]})"));
  ASSERT_EQ(types(fin), (std::vector<std::string>{"content_block_stop"}));
  EXPECT_EQ(fin[0].data.at("index"), 1);
  auto end = events(run.finish(3, 4));
  EXPECT_EQ(end[0].data.at("delta").at("stop_reason"), "tool_use");
  auto acc = accumulate(events(run.all));
  ASSERT_EQ(acc.message["content"].as_array().size(), 2u);
  EXPECT_EQ(json::parse(acc.json_bufs[0]), json::parse(R"({"location":"Paris"})"));
  EXPECT_EQ(acc.json_bufs[1], "");
  EXPECT_EQ(acc.message["content"].at(1).at("name"), "get_time");
}

TEST(AnthropicStream, TextBlockClosesBeforeToolAndToolInOneChunk) {
  StreamRun run;
  run.feed(R"({"choices":[{"delta":{"content":"Let me look."}}]})");
  auto evs = events(run.feed(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"t","type":"function",
      "function":{"name":"f","arguments":"{\"a\":1}"}}]},"finish_reason":"tool_calls"}]})"));
  ASSERT_EQ(types(evs), (std::vector<std::string>{"content_block_stop", "content_block_start", "content_block_delta",
                                                  "content_block_stop"}));
  EXPECT_EQ(evs[0].data.at("index"), 0);
  EXPECT_EQ(evs[1].data.at("index"), 1);
  EXPECT_EQ(evs[2].data.at("delta").at("partial_json"), "{\"a\":1}");
  run.finish(1, 1);
  auto acc = accumulate(events(run.all));
  EXPECT_EQ(acc.message["content"].at(0), json::parse(R"({"type":"text","text":"Let me look."})"));
  EXPECT_EQ(acc.message["stop_reason"], "tool_use");
}

TEST(AnthropicStream, Utf8CharacterSplitAcrossToolArgumentChunks) {
  // "€" is E2 82 AC and "😀" F0 9F 98 80: chunk bytes split inside both characters.
  const std::string args = "{\"city\":\"Z\xC3\xBCrich \xE2\x82\xAC \xF0\x9F\x98\x80\"}";
  std::vector<std::string> pieces = {args.substr(0, 11), args.substr(11, 1), args.substr(12, 4), args.substr(16, 3),
                                     args.substr(19)};
  StreamRun run;
  run.feed(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"t","function":{"name":"f"}}]}}]})");
  for (const auto& p : pieces) {
    json::object c{
        {"choices", json::array{json::object{
                        {"delta", json::object{{"tool_calls",
                                                json::array{json::object{
                                                    {"index", 0}, {"function", json::object{{"arguments", p}}}}}}}}}}}};
    std::string out;
    run.enc->chunk(c, Moment{}, out);
    run.all += out;
    events(out);  // every event on its own is valid UTF-8 JSON
  }
  run.feed(R"({"choices":[{"delta":{},"finish_reason":"tool_calls"}]})");
  run.finish(1, 1);
  auto acc = accumulate(events(run.all));
  EXPECT_EQ(acc.json_bufs.at(0), args);
  EXPECT_EQ(json::parse(acc.json_bufs.at(0)).at("city"), "Z\xC3\xBCrich \xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST(AnthropicStream, Utf8CharacterSplitAcrossTextChunks) {
  StreamRun run;
  auto feed_bytes = [&](std::string bytes) {
    json::object c{{"choices", json::array{json::object{{"delta", json::object{{"content", std::move(bytes)}}}}}}};
    std::string out;
    run.enc->chunk(c, Moment{}, out);
    run.all += out;
    return events(out);
  };
  auto a = feed_bytes("caf\xC3");  // block opens, "caf" goes, the lead byte waits
  ASSERT_EQ(types(a), (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta"}));
  EXPECT_EQ(a[2].data.at("delta").at("text"), "caf");
  auto b = feed_bytes("\xA9!");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].data.at("delta").at("text"), "\xC3\xA9!");
  EXPECT_EQ(an::complete_utf8_prefix("ab\xF0\x9F\x98"), 2u);
  EXPECT_EQ(an::complete_utf8_prefix("ab\xF0\x9F\x98\x80"), 6u);
  EXPECT_EQ(an::complete_utf8_prefix("\xE2"), 0u);
  EXPECT_EQ(an::complete_utf8_prefix("a\x80\x80\x80\x80"), 5u);  // stray continuation bytes pass
  EXPECT_EQ(an::complete_utf8_prefix(""), 0u);
}

TEST(AnthropicStream, EndsWithoutFinishChunk) {
  StreamRun run;
  run.feed(R"({"choices":[{"delta":{"content":"partial"}}]})");
  auto end = events(run.finish(4, 1));
  ASSERT_EQ(types(end), (std::vector<std::string>{"content_block_stop", "message_delta", "message_stop"}));
  EXPECT_EQ(end[1].data.at("delta").at("stop_reason"), "end_turn");
  EXPECT_EQ(end[1].data.at("usage"), json::parse(R"({"input_tokens":4,"output_tokens":1})"));
  StreamRun tools;
  tools.feed(
      R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"t","function":{"name":"f","arguments":"{}"}}]}}]})");
  auto tend = events(tools.finish(1, 1));
  ASSERT_EQ(types(tend), (std::vector<std::string>{"content_block_stop", "message_delta", "message_stop"}));
  EXPECT_EQ(tend[1].data.at("delta").at("stop_reason"), "tool_use");
}

TEST(AnthropicStream, UsageOnlyFinalChunkWithCachedTokens) {
  StreamRun run;
  run.feed(R"({"choices":[{"delta":{"content":"x"},"finish_reason":"length"}]})");
  EXPECT_TRUE(run.feed(R"({"choices":[],"usage":{"prompt_tokens":50,"completion_tokens":8,"total_tokens":58,
                          "prompt_tokens_details":{"cached_tokens":30}}})")
                  .empty());
  auto end = events(run.finish(50, 8));
  EXPECT_EQ(end[0].data,
            json::parse(R"({"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},
    "usage":{"input_tokens":20,"output_tokens":8,"cache_read_input_tokens":30}})"));
  auto acc = accumulate(events(run.all));
  EXPECT_EQ(acc.message["usage"].at("input_tokens"), 20);
}

TEST(AnthropicStream, NoUsageChunkUsesTheFinishUsage) {
  StreamRun run;
  run.feed(R"({"choices":[{"delta":{"content":"x"},"finish_reason":"stop"}]})");
  auto end = events(run.finish(12, 3));
  EXPECT_EQ(end[0].data.at("usage"), json::parse(R"({"input_tokens":12,"output_tokens":3})"));
}

TEST(AnthropicStream, EmptyStream) {
  StreamRun run;
  auto evs = events(run.finish(0, 0));
  ASSERT_EQ(types(evs), (std::vector<std::string>{"message_start", "message_delta", "message_stop"}));
  EXPECT_EQ(evs[0].data.at("message").at("id"), "msg_req1");
  EXPECT_EQ(evs[0].data.at("message").at("content"), json::array{});
  EXPECT_EQ(evs[1].data.at("delta").at("stop_reason"), "end_turn");
  StreamRun role_only;
  role_only.feed(R"({"choices":[{"delta":{"role":"assistant"},"finish_reason":"stop"}]})");
  role_only.feed(R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":0,"total_tokens":3}})");
  role_only.finish(3, 0);
  EXPECT_EQ(types(events(role_only.all)), (std::vector<std::string>{"message_start", "message_delta", "message_stop"}));
}

TEST(AnthropicStream, UsageOnlyFirstChunkFillsMessageStart) {
  StreamRun run;
  auto evs =
      events(run.feed(R"({"id":"u","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":0,"total_tokens":7}})"));
  ASSERT_EQ(types(evs), (std::vector<std::string>{"message_start"}));
  EXPECT_EQ(evs[0].data.at("message").at("usage"), json::parse(R"({"input_tokens":7,"output_tokens":0})"));
}

TEST(AnthropicStream, FailMidStreamAppendsOnlyAnErrorEvent) {
  StreamRun run;
  run.feed(R"({"choices":[{"delta":{"content":"half"}}]})");
  std::string out;
  run.enc->fail(core::make_error(ErrorKind::kUpstreamError, "upstream broke"), out);
  auto evs = events(out);
  ASSERT_EQ(types(evs), (std::vector<std::string>{"error"}));
  EXPECT_EQ(evs[0].data, json::parse(R"({"type":"error","error":{"type":"api_error","message":"upstream broke"}})"));
  std::string after;
  run.enc->chunk(chunk(R"({"choices":[{"delta":{"content":"more"}}]})"), Moment{}, after);
  run.enc->finish(core::Usage{}, Moment{}, after);
  run.enc->fail(core::make_error(ErrorKind::kUpstreamError, "again"), after);
  EXPECT_TRUE(after.empty()) << after;
  StreamRun overloaded;
  overloaded.feed(R"({"choices":[{"delta":{"content":"x"}}]})");
  std::string o;
  overloaded.enc->fail(core::make_error(ErrorKind::kUpstreamUnavailable, "no provider"), o);
  EXPECT_EQ(events(o)[0].data.at("error").at("type"), "overloaded_error");
}

TEST(AnthropicStream, ToolNameArrivingLateAndIdlessCalls) {
  StreamRun run;
  EXPECT_EQ(types(events(run.feed(
                R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"q\":"}}]}}]})"))),
            (std::vector<std::string>{"message_start"}));
  auto evs = events(run.feed(
      R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"search","arguments":"1}"}}]}}]})"));
  ASSERT_EQ(types(evs), (std::vector<std::string>{"content_block_start", "content_block_delta"}));
  EXPECT_EQ(evs[0].data.at("content_block"),
            json::parse(R"({"type":"tool_use","id":"toolu_req1_0","name":"search","input":{}})"));
  EXPECT_EQ(evs[1].data.at("delta").at("partial_json"), "{\"q\":1}");
  // A call without an index but with a new id is a new call.
  auto next = events(
      run.feed(R"({"choices":[{"delta":{"tool_calls":[{"id":"x2","function":{"name":"g","arguments":"{}"}}]}}]})"));
  ASSERT_EQ(types(next),
            (std::vector<std::string>{"content_block_stop", "content_block_start", "content_block_delta"}));
  EXPECT_EQ(next[1].data.at("content_block").at("id"), "x2");
  run.finish(1, 1);
  EXPECT_EQ(accumulate(events(run.all)).message["content"].as_array().size(), 2u);
}

TEST(AnthropicStream, NamelessCallIsStillStartedAndStopped) {
  StreamRun run;
  run.feed(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"t","function":{"arguments":"{}"}}]}}]})");
  auto evs = events(run.finish(1, 1));
  ASSERT_EQ(types(evs), (std::vector<std::string>{"content_block_start", "content_block_delta", "content_block_stop",
                                                  "message_delta", "message_stop"}));
  EXPECT_EQ(evs[0].data.at("content_block").at("id"), "t");
}

TEST(AnthropicStream, LateFragmentOfAClosedCallIsDropped) {
  StreamRun run;
  run.feed(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{}"}}]}}]})");
  run.feed(R"({"choices":[{"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"g","arguments":"{"}}]}}]})");
  EXPECT_TRUE(run.feed(R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"x"}}]}}]})").empty());
  auto more = events(run.feed(R"({"choices":[{"delta":{"tool_calls":[{"index":1,"function":{"arguments":"}"}}]}}]})"));
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].data.at("index"), 1);
  run.finish(1, 1);
  auto acc = accumulate(events(run.all));
  EXPECT_EQ(acc.json_bufs, (std::vector<std::string>{"{}", "{}"}));
}

TEST(AnthropicStream, IgnoresMalformedChunkParts) {
  StreamRun run;
  EXPECT_EQ(types(events(run.feed(R"({"choices":[5]})"))), (std::vector<std::string>{"message_start"}));
  EXPECT_TRUE(run.feed(R"({"choices":[{"delta":"x"}]})").empty());
  EXPECT_TRUE(run.feed(R"({"choices":[{"delta":{"content":7,"tool_calls":[3,"x"]}}]})").empty());
  EXPECT_TRUE(run.feed(R"({"usage":null})").empty());
  auto end = events(run.finish(0, 0));
  EXPECT_EQ(types(end), (std::vector<std::string>{"message_delta", "message_stop"}));
}

// ---- protocol, errors, models ----

TEST(AnthropicProtocol, KeysStatusAndErrorTypes) {
  const auto& p = an::protocol();
  EXPECT_EQ(p.name, "anthropic");
  EXPECT_TRUE(p.keys.bearer);
  EXPECT_EQ(p.keys.headers[0], "x-api-key");
  EXPECT_EQ(p.keys.headers[1], "");
  EXPECT_EQ(p.keys.query_param, "");
  EXPECT_FALSE(p.relays_upstream_errors);
  EXPECT_EQ(p.alternate_model, nullptr);
  struct Case {
    ErrorKind kind;
    unsigned status;
    const char* type;
  };
  Case cases[] = {{ErrorKind::kInvalidRequest, 400, "invalid_request_error"},
                  {ErrorKind::kUnauthorized, 401, "authentication_error"},
                  {ErrorKind::kForbidden, 403, "permission_error"},
                  {ErrorKind::kNotFound, 404, "not_found_error"},
                  {ErrorKind::kMethodNotAllowed, 405, "invalid_request_error"},
                  {ErrorKind::kConflict, 409, "conflict_error"},
                  {ErrorKind::kPayloadTooLarge, 413, "request_too_large"},
                  {ErrorKind::kQuotaExceeded, 429, "rate_limit_error"},
                  {ErrorKind::kRateLimited, 429, "rate_limit_error"},
                  {ErrorKind::kUpstreamError, 502, "api_error"},
                  {ErrorKind::kUpstreamUnavailable, 503, "overloaded_error"},
                  {ErrorKind::kUpstreamTimeout, 504, "timeout_error"},
                  {ErrorKind::kInternal, 500, "api_error"}};
  for (const auto& c : cases) {
    auto e = core::make_error(c.kind, "msg \"quoted\"", "param", "code");
    EXPECT_EQ(p.error_status(e), c.status);
    EXPECT_EQ(json::parse(p.error_body(e)), json::parse(std::string(R"({"type":"error","error":{"type":")") + c.type +
                                                        R"(","message":"msg \"quoted\""}})"));
  }
}

TEST(AnthropicModels, ListAndSingle) {
  std::vector<common::ModelInfo> models = {{"gpt-4o", 0, "openai"}, {"claude-x", 1700000000, "anthropic"}};
  EXPECT_EQ(json::parse(an::models_body(models)), json::parse(R"({"data":[
      {"type":"model","id":"gpt-4o","display_name":"gpt-4o","created_at":"1970-01-01T00:00:00Z"},
      {"type":"model","id":"claude-x","display_name":"claude-x","created_at":"2023-11-14T22:13:20Z"}],
    "has_more":false,"first_id":"gpt-4o","last_id":"claude-x"})"));
  EXPECT_EQ(json::parse(an::models_body({})),
            json::parse(R"({"data":[],"has_more":false,"first_id":null,"last_id":null})"));
  EXPECT_EQ(json::parse(an::model_body({"m", 951782400, ""})),
            json::parse(R"({"type":"model","id":"m","display_name":"m","created_at":"2000-02-29T00:00:00Z"})"));
  EXPECT_EQ(json::parse(an::model_body({"old", -1, ""})).at("created_at"), "1969-12-31T23:59:59Z");
}

TEST(AnthropicStream, ResumesInsideTheOpenTextBlockOfARelayedStream) {
  StreamRun run;
  StreamProgress progress{"Hello", true, 2};
  ASSERT_TRUE(run.enc->resume(progress));
  auto out = run.feed(R"({"id":"c2","choices":[{"index":0,"delta":{"content":" there"}}]})");
  EXPECT_EQ(out.find("message_start"), std::string::npos) << "the client has its message_start";
  EXPECT_EQ(out.find("content_block_start"), std::string::npos) << "the text block is still open";
  EXPECT_NE(out.find(R"("index":1,"delta":{"type":"text_delta","text":" there"})"), std::string::npos) << out;
  StreamRun fresh;
  EXPECT_FALSE(fresh.enc->resume(StreamProgress{"x", false, 1})) << "only a continuable progress";
}
