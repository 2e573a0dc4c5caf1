#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "formats/anthropic/provider.hpp"
#include "stream_agreement.hpp"

using namespace anygpt;
using namespace anygpt::formats;
namespace json = boost::json;
using core::ErrorKind;

namespace {

std::string fixture_text(const std::string& name) {
  std::ifstream in(std::string(ANYGPT_FIXTURES_DIR) + "/anthropic/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json::value fixture(const std::string& name) {
  return json::parse(fixture_text(name));
}

const ProviderCodec& codec() {
  return anthropic::provider_codec();
}

UpstreamCall chat_call(bool stream = false) {
  return UpstreamCall{Operation::kChat, "claude-sonnet-4-5", stream, 4096};
}

// The Anthropic body for a canonical request (JSON text); null when encoding failed.
json::value encode(std::string_view canonical, const UpstreamCall& call = chat_call()) {
  auto r = codec().encode_request(json::parse(canonical).as_object(), call);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? json::parse(*r) : json::value(nullptr);
}

// The error of a canonical request that must not encode.
core::Error encode_error(std::string_view canonical) {
  auto r = codec().encode_request(json::parse(canonical).as_object(), chat_call());
  EXPECT_FALSE(r.ok()) << (r.ok() ? *r : "");
  return r.ok() ? core::Error{} : r.error();
}

// A canonical request with these messages (JSON array text) and extra top-level fields.
std::string chat(std::string_view messages, std::string_view extra = "") {
  return R"({"model":"m","messages":)" + std::string(messages) + std::string(extra) + "}";
}

constexpr std::string_view kHello = R"([{"role":"user","content":"hi"}])";

struct StreamRun {
  json::array chunks;
  std::optional<core::Error> error;
  bool complete = false;
  bool own_storage = true;  // every chunk uses the default storage
};

// Feeds `sse` in pieces of `step` bytes (0: whole), or split once at `split` when given. A whole
// stream is also watched: the same-protocol watcher must agree with the decoder on it.
StreamRun run_stream(std::string_view sse, std::size_t step, std::size_t split = std::string_view::npos) {
  if (step == 0 && split == std::string_view::npos) agreement::expect_agreement(codec(), chat_call(true), sse);
  auto decoder = codec().stream_decoder(chat_call(true));
  StreamRun run;
  std::vector<std::string_view> pieces;
  if (split != std::string_view::npos) {
    pieces = {sse.substr(0, split), sse.substr(split)};
  } else {
    for (std::size_t at = 0; at < sse.size(); at += step ? step : sse.size())
      pieces.push_back(sse.substr(at, step ? step : sse.size()));
  }
  for (auto piece : pieces) {
    std::vector<json::object> chunks;
    run.error = decoder->feed(piece, chunks);
    for (auto& c : chunks) {
      run.own_storage = run.own_storage && c.storage().get() == json::storage_ptr().get();
      run.chunks.push_back(std::move(c));
    }
    if (run.error) break;
  }
  run.complete = decoder->complete();
  return run;
}

// The deltas of a run's chunks (usage-only chunks as {"usage":...}).
json::array deltas(const json::array& chunks) {
  json::array out;
  for (const auto& c : chunks) {
    const auto& choices = c.at("choices").as_array();
    if (choices.empty()) {
      out.push_back(json::object{{"usage", c.at("usage")}});
      continue;
    }
    json::object d = choices[0].at("delta").as_object();
    if (!choices[0].at("finish_reason").is_null()) d["finish_reason"] = choices[0].at("finish_reason");
    out.push_back(std::move(d));
  }
  return out;
}

std::string event(std::string_view type, std::string_view data) {
  return "event: " + std::string(type) + "\ndata: " + std::string(data) + "\n\n";
}

const std::string kStart = event(
    "message_start",
    R"({"type":"message_start","message":{"id":"msg_1","model":"claude-x","usage":{"input_tokens":10,"output_tokens":1}}})");
const std::string kTextStart = event(
    "content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})");

std::string text_delta(std::string_view text) {
  return event("content_block_delta",
               R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":")" + std::string(text) +
                   R"("}})");
}

// ---------------------------------------------------------------------------------------------
// Contract basics

TEST(AnthropicProvider, PathIsMessagesForStreamsAndAnswers) {
  EXPECT_EQ(codec().path(chat_call(false)), "/v1/messages");
  EXPECT_EQ(codec().path(chat_call(true)), "/v1/messages");
}

TEST(AnthropicProvider, EmbeddingsAreRejected) {
  UpstreamCall call{Operation::kEmbeddings, "claude", false, 4096};
  auto r = codec().encode_request(json::parse(R"({"model":"m","input":"x"})").as_object(), call);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest);
  EXPECT_EQ(r.error().message, "embeddings are not supported by anthropic providers");
}

TEST(AnthropicProvider, ErrorMessageOfAnthropicErrorBodies) {
  EXPECT_EQ(
      codec().error_message(
          R"({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"},"request_id":"req_1"})"),
      "max_tokens: Field required");
  EXPECT_EQ(codec().error_message("<html>bad gateway</html>"), "");
  EXPECT_EQ(codec().error_message(R"({"type":"error","error":"x"})"), "");
  EXPECT_EQ(codec().error_message(""), "");
}

// ---------------------------------------------------------------------------------------------
// Requests

TEST(AnthropicProviderRequest, FullFixtureMapsEveryField) {
  auto got = encode(fixture_text("provider_request.canonical.json"), chat_call(true));
  EXPECT_EQ(got, fixture("provider_request.anthropic.json")) << json::serialize(got);
}

TEST(AnthropicProviderRequest, MaxTokensAlwaysSent) {
  EXPECT_EQ(encode(chat(kHello)).at("max_tokens"), 4096);
  EXPECT_EQ(encode(chat(kHello), UpstreamCall{Operation::kChat, "c", false, 1000}).at("max_tokens"), 1000);
  EXPECT_EQ(encode(chat(kHello, R"(,"max_tokens":77)")).at("max_tokens"), 77);
  EXPECT_EQ(encode(chat(kHello, R"(,"max_tokens":77,"max_completion_tokens":99)")).at("max_tokens"), 99);
  EXPECT_EQ(encode_error(chat(kHello, R"(,"max_tokens":0)")).param, "max_tokens");
  EXPECT_EQ(encode_error(chat(kHello, R"(,"max_completion_tokens":"5")")).param, "max_completion_tokens");
}

TEST(AnthropicProviderRequest, MinimalRequestShape) {
  auto got = encode(chat(kHello, R"(,"stream":false)"));
  EXPECT_EQ(got, json::parse(R"({"model":"claude-sonnet-4-5","max_tokens":4096,
      "messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]})"));
}

TEST(AnthropicProviderRequest, ModelIsTheProvidersName) {
  EXPECT_EQ(encode(chat(kHello)).at("model"), "claude-sonnet-4-5");
  EXPECT_EQ(encode(chat(kHello), UpstreamCall{Operation::kChat, "", false, 10}).at("model"), "m");
}

TEST(AnthropicProviderRequest, StreamFromTheCall) {
  EXPECT_EQ(encode(chat(kHello), chat_call(true)).at("stream"), true);
  EXPECT_FALSE(encode(chat(kHello, R"(,"stream":true)"), chat_call(false)).as_object().contains("stream"));
}

TEST(AnthropicProviderRequest, SystemMessagesAnywhereBecomeTopLevelSystem) {
  auto got = encode(chat(R"([{"role":"system","content":"A"},{"role":"user","content":"hi"},
      {"role":"developer","content":[{"type":"text","text":"B"},{"type":"text","text":""}]},
      {"role":"system","content":""}])"));
  EXPECT_EQ(got.at("system"), "A\n\nB");
  EXPECT_EQ(got.at("messages").as_array().size(), 1u);
  EXPECT_FALSE(encode(chat(kHello)).as_object().contains("system"));
  EXPECT_EQ(
      encode_error(chat(R"([{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]},
      {"role":"user","content":"hi"}])"))
          .param,
      "messages[0].content[0].type");
}

TEST(AnthropicProviderRequest, ConsecutiveSameRoleTurnsAreMerged) {
  auto got = encode(chat(R"([{"role":"user","content":"a"},{"role":"user","content":[{"type":"text","text":"b"}]},
      {"role":"assistant","content":"c"},{"role":"assistant","content":"d"}])"));
  EXPECT_EQ(got.at("messages"), json::parse(R"([
      {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
      {"role":"assistant","content":[{"type":"text","text":"c"},{"type":"text","text":"d"}]}])"));
}

TEST(AnthropicProviderRequest, ToolResultsLeadTheirUserTurn) {
  auto got = encode(chat(R"([{"role":"user","content":"go"},
      {"role":"assistant","content":null,"tool_calls":[
        {"id":"t1","type":"function","function":{"name":"f","arguments":"{}"}},
        {"id":"t2","type":"function","function":{"name":"g","arguments":""}}]},
      {"role":"user","content":"also this"},
      {"role":"tool","tool_call_id":"t1","content":"one"},
      {"role":"tool","tool_call_id":"t2","content":"two"}])"));
  EXPECT_EQ(got.at("messages"), json::parse(R"([
      {"role":"user","content":[{"type":"text","text":"go"}]},
      {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}},
                                     {"type":"tool_use","id":"t2","name":"g","input":{}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"one"},
                                {"type":"tool_result","tool_use_id":"t2","content":"two"},
                                {"type":"text","text":"also this"}]}])"));
}

TEST(AnthropicProviderRequest, EmptyTextIsNeverABlock) {
  auto got = encode(chat(R"([{"role":"user","content":"q"},
      {"role":"assistant","content":"","tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"t1","content":""},
      {"role":"user","content":[{"type":"text","text":""}]},
      {"role":"assistant","content":""},
      {"role":"user","content":"next"}])"));
  EXPECT_EQ(got.at("messages"), json::parse(R"([
      {"role":"user","content":[{"type":"text","text":"q"}]},
      {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":{}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1"},{"type":"text","text":"next"}]}])"));
}

TEST(AnthropicProviderRequest, UnparsableArgumentsAreKeptRaw) {
  auto got = encode(chat(R"([{"role":"user","content":"q"},
      {"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{\"a\":"}},
                                        {"id":"t2","type":"function","function":{"name":"f","arguments":"[1]"}}]},
      {"role":"tool","tool_call_id":"t1","content":"x"},{"role":"tool","tool_call_id":"t2","content":"y"}])"));
  const auto& blocks = got.at("messages").at(1).at("content").as_array();
  EXPECT_EQ(blocks[0].at("input"), json::parse(R"({"_raw":"{\"a\":"})"));
  EXPECT_EQ(blocks[1].at("input"), json::parse(R"({"_raw":"[1]"})"));
}

TEST(AnthropicProviderRequest, Images) {
  auto got = encode(chat(R"([{"role":"user","content":[
      {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQ"}},
      {"type":"image_url","image_url":"http://example.com/a.webp"}]}])"));
  EXPECT_EQ(got.at("messages").at(0).at("content"), json::parse(R"([
      {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}},
      {"type":"image","source":{"type":"url","url":"http://example.com/a.webp"}}])"));
  auto bad = [](std::string_view url) {
    return encode_error(chat(R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":")" +
                             std::string(url) + R"("}}]}])"));
  };
  EXPECT_EQ(bad("ftp://example.com/a.png").param, "messages[0].content[0].image_url.url");
  EXPECT_EQ(bad("data:image/png,rawbytes").param, "messages[0].content[0].image_url.url");
  EXPECT_EQ(bad("data:image/bmp;base64,Qk0=").kind, ErrorKind::kInvalidRequest);
  EXPECT_EQ(bad("").kind, ErrorKind::kInvalidRequest);
}

TEST(AnthropicProviderRequest, ImagesOnlyInUserMessages) {
  auto e = encode_error(chat(R"([{"role":"user","content":"q"},
      {"role":"assistant","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}])"));
  EXPECT_EQ(e.param, "messages[1].content[0].type");
}

TEST(AnthropicProviderRequest, UnsupportedPartsAndRolesAreRejected) {
  EXPECT_EQ(encode_error(chat(R"([{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}])")).param,
            "messages[0].content[0].type");
  EXPECT_EQ(encode_error(chat(R"([{"role":"user","content":"q"},{"role":"function","name":"f","content":"x"}])")).param,
            "messages[1]");
  EXPECT_EQ(encode_error(chat(R"([{"role":"user","content":"q"},
      {"role":"assistant","content":null,"function_call":{"name":"f","arguments":"{}"}}])"))
                .param,
            "messages[1]");
  EXPECT_EQ(encode_error(chat(R"([{"role":"robot","content":"q"}])")).param, "messages[0].role");
  EXPECT_EQ(encode_error(chat(R"([{"role":"user","content":"q"},{"role":"tool","content":"x"}])")).param,
            "messages[1].tool_call_id");
  EXPECT_EQ(encode_error(chat(R"([{"role":"user","content":"q"},
      {"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}])"))
                .param,
            "messages[1].tool_calls[0]");
  EXPECT_EQ(encode_error(chat(R"([{"role":"user","content":7}])")).param, "messages[0].content");
}

TEST(AnthropicProviderRequest, ConversationMustStartWithTheUser) {
  EXPECT_EQ(encode_error(chat(R"([{"role":"system","content":"s"},{"role":"assistant","content":"hello"}])")).param,
            "messages");
  EXPECT_EQ(encode_error(chat(R"([{"role":"system","content":"s"}])")).param, "messages");
  EXPECT_EQ(encode_error(chat("[]")).param, "messages");
  EXPECT_EQ(encode_error(R"({"model":"m"})").param, "messages");
  // A trailing assistant turn (a prefill) is allowed.
  EXPECT_EQ(encode(chat(R"([{"role":"user","content":"q"},{"role":"assistant","content":"A:"}])"))
                .at("messages")
                .as_array()
                .size(),
            2u);
}

TEST(AnthropicProviderRequest, ToolChoiceMapping) {
  const std::string tools = R"(,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}])";
  auto choice = [&](std::string_view extra) {
    return encode(chat(kHello, tools + std::string(extra))).at("tool_choice");
  };
  EXPECT_EQ(choice(""), json::parse(R"({"type":"auto"})"));
  EXPECT_EQ(choice(R"(,"tool_choice":"auto")"), json::parse(R"({"type":"auto"})"));
  EXPECT_EQ(choice(R"(,"tool_choice":"none")"), json::parse(R"({"type":"none"})"));
  EXPECT_EQ(choice(R"(,"tool_choice":"required")"), json::parse(R"({"type":"any"})"));
  EXPECT_EQ(choice(R"(,"tool_choice":{"type":"function","function":{"name":"f"}})"),
            json::parse(R"({"type":"tool","name":"f"})"));
  EXPECT_EQ(choice(R"(,"parallel_tool_calls":false)"),
            json::parse(R"({"type":"auto","disable_parallel_tool_use":true})"));
  EXPECT_EQ(choice(R"(,"parallel_tool_calls":true)"), json::parse(R"({"type":"auto"})"));
  EXPECT_EQ(choice(R"(,"tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":false)"),
            json::parse(R"({"type":"tool","name":"f","disable_parallel_tool_use":true})"));
  EXPECT_EQ(choice(R"(,"tool_choice":"none","parallel_tool_calls":false)"), json::parse(R"({"type":"none"})"));
  EXPECT_EQ(encode_error(chat(kHello, tools + R"(,"tool_choice":"sometimes")")).param, "tool_choice");
  EXPECT_EQ(encode_error(chat(kHello, tools + R"(,"tool_choice":{"type":"allowed_tools"})")).param, "tool_choice");
}

TEST(AnthropicProviderRequest, NoToolsMeansNoToolChoice) {
  auto got = encode(chat(kHello, R"(,"tools":[],"tool_choice":"required","parallel_tool_calls":false)")).as_object();
  EXPECT_FALSE(got.contains("tools"));
  EXPECT_FALSE(got.contains("tool_choice"));
}

TEST(AnthropicProviderRequest, OnlyFunctionToolsAreExpressible) {
  EXPECT_EQ(encode_error(chat(kHello, R"(,"tools":[{"type":"custom","custom":{"name":"x"}}])")).param, "tools[0].type");
  EXPECT_EQ(encode_error(chat(kHello, R"(,"tools":[{"type":"function","function":{"name":""}}])")).param,
            "tools[0].function.name");
  EXPECT_EQ(
      encode_error(chat(kHello, R"(,"tools":[{"type":"function","function":{"name":"f","parameters":"x"}}])")).param,
      "tools[0].function.parameters");
  EXPECT_EQ(encode_error(chat(kHello, R"(,"functions":[{"name":"f"}])")).param, "functions");
}

TEST(AnthropicProviderRequest, SamplingFields) {
  auto got = encode(chat(kHello, R"(,"temperature":1,"top_p":0.5,"top_k":40,"stop":"###","user":"u1")"));
  EXPECT_EQ(got.at("temperature"), 1);
  EXPECT_EQ(got.at("top_p"), 0.5);
  EXPECT_EQ(got.at("top_k"), 40);
  EXPECT_EQ(got.at("stop_sequences"), json::parse(R"(["###"])"));
  EXPECT_EQ(got.at("metadata"), json::parse(R"({"user_id":"u1"})"));
  EXPECT_EQ(encode_error(chat(kHello, R"(,"temperature":1.5)")).param, "temperature");
  EXPECT_EQ(encode_error(chat(kHello, R"(,"temperature":"hot")")).param, "temperature");
  EXPECT_EQ(encode_error(chat(kHello, R"(,"top_k":2.5)")).param, "top_k");
  EXPECT_EQ(encode_error(chat(kHello, R"(,"n":2)")).param, "n");
  EXPECT_EQ(encode_error(chat(kHello, R"(,"stop":["\n"])")).param, "stop");
  EXPECT_EQ(encode_error(chat(kHello, R"(,"stop":[""])")).param, "stop");
  EXPECT_EQ(encode_error(chat(kHello, R"(,"stop":5)")).param, "stop");
  EXPECT_FALSE(encode(chat(kHello, R"(,"stop":[],"user":"")")).as_object().contains("stop_sequences"));
}

TEST(AnthropicProviderRequest, OpenAIOnlyFieldsAreDropped) {
  auto got = encode(chat(kHello, R"(,"frequency_penalty":1,"presence_penalty":1,"logit_bias":{"1":2},"seed":3,
      "logprobs":true,"top_logprobs":2,"store":true,"metadata":{"a":"b"},"service_tier":"auto","reasoning_effort":"low",
      "stream_options":{"include_usage":true},"modalities":["text"],"n":1)"));
  EXPECT_EQ(got, encode(chat(kHello)));
}

TEST(AnthropicProviderRequest, ResponseFormatPolicy) {
  EXPECT_EQ(encode(chat(kHello, R"(,"response_format":{"type":"text"})")), encode(chat(kHello)));
  EXPECT_EQ(encode(chat(kHello, R"(,"response_format":{"type":"json_object"})")), encode(chat(kHello)));
  EXPECT_EQ(
      encode(chat(kHello,
                  R"(,"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{"type":"object"}}})"))
          .at("output_config"),
      json::parse(R"({"format":{"type":"json_schema","schema":{"type":"object"}}})"));
  EXPECT_EQ(encode_error(chat(kHello, R"(,"response_format":{"type":"json_schema","json_schema":{"name":"n"}})")).param,
            "response_format");
  EXPECT_EQ(encode_error(chat(kHello, R"(,"response_format":{"type":"grammar"})")).param, "response_format");
}

// ---------------------------------------------------------------------------------------------
// Answers

core::Result<json::object> decode(std::string_view body) {
  return codec().decode_answer(body, chat_call());
}

TEST(AnthropicProviderAnswer, FullFixture) {
  auto got = decode(fixture_text("provider_answer.anthropic.json"));
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(json::value(*got), fixture("provider_answer.canonical.json")) << json::serialize(*got);
}

std::string message_with(std::string_view content, std::string_view stop_reason, std::string_view usage) {
  return R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":)" + std::string(content) +
         R"(,"stop_reason":)" + std::string(stop_reason) + R"(,"stop_sequence":null,"usage":)" + std::string(usage) +
         "}";
}

TEST(AnthropicProviderAnswer, StopReasons) {
  const std::pair<const char*, const char*> table[] = {{R"("end_turn")", "stop"},
                                                       {R"("stop_sequence")", "stop"},
                                                       {R"("pause_turn")", "stop"},
                                                       {R"("max_tokens")", "length"},
                                                       {R"("model_context_window_exceeded")", "length"},
                                                       {R"("tool_use")", "tool_calls"},
                                                       {R"("refusal")", "content_filter"},
                                                       {R"("something_new")", "stop"},
                                                       {"null", "stop"}};
  for (const auto& [reason, expected] : table) {
    auto got =
        decode(message_with(R"([{"type":"text","text":"x"}])", reason, R"({"input_tokens":1,"output_tokens":1})"));
    ASSERT_TRUE(got.ok()) << reason;
    EXPECT_EQ(got->at("choices").at(0).at("finish_reason"), expected) << reason;
  }
}

TEST(AnthropicProviderAnswer, TextOnlyAnswerAndUsageWithoutCache) {
  auto got = decode(message_with(R"([{"type":"text","text":"Hi!"}])", R"("end_turn")",
                                 R"({"input_tokens":12,"output_tokens":3,"cache_read_input_tokens":0})"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->at("choices").at(0).at("message"), json::parse(R"({"role":"assistant","content":"Hi!"})"));
  EXPECT_EQ(got->at("usage"), json::parse(R"({"prompt_tokens":12,"completion_tokens":3,"total_tokens":15})"));
  EXPECT_EQ(got->at("id"), "msg_1");
  EXPECT_EQ(got->at("model"), "claude-x");
}

TEST(AnthropicProviderAnswer, EmptyAndToolOnlyContent) {
  auto empty = decode(message_with("[]", R"("end_turn")", R"({"input_tokens":1,"output_tokens":0})"));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->at("choices").at(0).at("message").at("content"), "");
  auto tools = decode(message_with(
      R"([{"type":"tool_use","id":"t","name":"f","input":{}},{"type":"server_tool_use","id":"s","name":"web_search","input":{}},{"type":"mystery"}])",
      R"("tool_use")", R"({"input_tokens":1,"output_tokens":2})"));
  ASSERT_TRUE(tools.ok());
  const auto& message = tools->at("choices").at(0).at("message");
  EXPECT_TRUE(message.at("content").is_null());
  EXPECT_EQ(message.at("tool_calls"),
            json::parse(R"([{"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}])"));
}

TEST(AnthropicProviderAnswer, MissingUsageIsNotInvented) {
  auto got = decode(
      R"({"id":"m","type":"message","role":"assistant","content":[{"type":"text","text":"x"}],"stop_reason":"end_turn"})");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->contains("usage"));
  EXPECT_EQ(got->at("model"), "claude-sonnet-4-5");  // the call's model when the answer has none
}

TEST(AnthropicProviderAnswer, MalformedAnswersAreUpstreamErrors) {
  for (std::string_view body :
       {std::string_view("not json"), std::string_view("[1,2]"), std::string_view(R"({"type":"message"})"),
        std::string_view(R"({"type":"message","content":"text"})"), std::string_view(R"({"content":[]})"),
        std::string_view(R"({"type":"message","content":[7]})"),
        std::string_view(R"({"type":"message","content":[{"type":"tool_use","name":"f","input":{}}]})"),
        std::string_view(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"),
        std::string_view("")}) {
    auto got = decode(body);
    ASSERT_FALSE(got.ok()) << body;
    EXPECT_EQ(got.error().kind, ErrorKind::kUpstreamError) << body;
  }
  EXPECT_NE(decode(R"({"type":"error","error":{"type":"api_error","message":"Boom"}})").error().message.find("Boom"),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Streams

TEST(AnthropicProviderStream, ToolFixtureWholeGivesTheExpectedChunks) {
  auto run = run_stream(fixture_text("provider_stream_tools.sse"), 0);
  EXPECT_FALSE(run.error);
  EXPECT_TRUE(run.complete);
  EXPECT_TRUE(run.own_storage);
  EXPECT_EQ(json::value(run.chunks), fixture("provider_stream_tools.chunks.json")) << json::serialize(run.chunks);
}

TEST(AnthropicProviderStream, ToolFixtureAtEverySplitAndByteByByte) {
  auto sse = fixture_text("provider_stream_tools.sse");
  auto expected = fixture("provider_stream_tools.chunks.json");
  auto bytes = run_stream(sse, 1);
  EXPECT_EQ(json::value(bytes.chunks), expected);
  EXPECT_TRUE(bytes.complete);
  for (std::size_t split = 0; split <= sse.size(); ++split) {
    auto run = run_stream(sse, 0, split);
    ASSERT_FALSE(run.error) << split;
    ASSERT_EQ(json::value(run.chunks), expected) << "split at " << split;
    ASSERT_TRUE(run.complete) << split;
  }
}

TEST(AnthropicProviderStream, TextFixtureWithCrlfLineEnds) {
  auto sse = fixture_text("provider_stream_text.sse");
  std::string crlf;
  for (char c : sse) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  auto expected = json::parse(R"([{"role":"assistant","content":""},{"content":"Hello"},{"content":"!"},
      {"finish_reason":"stop"},{"usage":{"prompt_tokens":25,"completion_tokens":15,"total_tokens":40}}])");
  for (const auto& text : {sse, crlf}) {
    for (std::size_t step : {std::size_t{0}, std::size_t{1}, std::size_t{7}}) {
      auto run = run_stream(text, step);
      EXPECT_FALSE(run.error);
      EXPECT_TRUE(run.complete);
      EXPECT_EQ(json::value(deltas(run.chunks)), expected) << step;
      EXPECT_EQ(run.chunks.at(0).at("id"), "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY");
      EXPECT_EQ(run.chunks.at(0).at("model"), "claude-opus-4-1-20250805");
    }
  }
}

TEST(AnthropicProviderStream, EachChunkIsEmittedAsSoonAsItsEventIsComplete) {
  auto decoder = codec().stream_decoder(chat_call(true));
  std::vector<json::object> chunks;
  EXPECT_FALSE(decoder->feed(kStart, chunks));
  ASSERT_EQ(chunks.size(), 1u);  // the role chunk, before any content
  auto delta = text_delta("Hel");
  EXPECT_FALSE(decoder->feed(kTextStart + delta.substr(0, delta.size() - 1), chunks));
  EXPECT_EQ(chunks.size(), 1u);  // the delta event is not complete yet
  EXPECT_FALSE(decoder->feed("\n", chunks));
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[1].at("choices").at(0).at("delta"), json::parse(R"({"content":"Hel"})"));
  EXPECT_FALSE(decoder->complete());
}

TEST(AnthropicProviderStream, CutBeforeMessageStopIsIncomplete) {
  auto sse = fixture_text("provider_stream_text.sse");
  auto stop = sse.find("event: message_stop");
  for (std::size_t end : {stop, stop + 10, sse.size() - 1}) {
    auto run = run_stream(std::string_view(sse).substr(0, end), 0);
    EXPECT_FALSE(run.error);
    EXPECT_FALSE(run.complete) << end;
    EXPECT_EQ(json::value(deltas(run.chunks)).as_array().back(), json::parse(R"({"finish_reason":"stop"})"));
  }
}

TEST(AnthropicProviderStream, InBandErrors) {
  auto overloaded =
      run_stream(kStart + kTextStart + text_delta("partial") +
                     event("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"),
                 0);
  ASSERT_TRUE(overloaded.error);
  EXPECT_EQ(overloaded.error->kind, ErrorKind::kUpstreamUnavailable);
  EXPECT_EQ(overloaded.error->message, "Overloaded");
  EXPECT_EQ(overloaded.error->code, "overloaded_error");
  EXPECT_EQ(overloaded.chunks.size(), 2u);  // what came before the error was delivered
  EXPECT_FALSE(overloaded.complete);

  auto api =
      run_stream(kStart + event("error", R"({"type":"error","error":{"type":"api_error","message":"Internal"}})"), 1);
  ASSERT_TRUE(api.error);
  EXPECT_EQ(api.error->kind, ErrorKind::kUpstreamError);
  EXPECT_EQ(api.error->message, "Internal");

  auto bare = run_stream(event("error", R"({"type":"error"})"), 0);
  ASSERT_TRUE(bare.error);
  EXPECT_EQ(bare.error->kind, ErrorKind::kUpstreamError);
}

TEST(AnthropicProviderStream, MalformedEventsAreUpstreamErrors) {
  for (const auto& sse :
       {kStart + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\n\n", kStart + "data: [1]\n\n",
        kTextStart, kStart + kStart, event("message_stop", R"({"type":"message_stop"})")}) {
    auto run = run_stream(sse, 0);
    ASSERT_TRUE(run.error) << sse;
    EXPECT_EQ(run.error->kind, ErrorKind::kUpstreamError) << sse;
    EXPECT_FALSE(run.complete);
  }
}

// Content blocks the decoder cannot translate fail a translated stream; a client of the same
// protocol receives them as they are and judges them itself (the watcher reads only order,
// usage, errors and the end).
TEST(AnthropicProviderStream, BlocksTheDecoderCannotTranslateAreLeftToSameProtocolClients) {
  for (const auto& sse :
       {kStart +
            event("content_block_delta",
                  R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{"}})"),
        kStart + event("content_block_start", R"({"type":"content_block_start","index":"0"})"),
        kStart + event("content_block_start",
                       R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","input":{}}})")}) {
    auto run = run_stream(sse, 1);
    ASSERT_TRUE(run.error) << sse;
    EXPECT_EQ(run.error->kind, ErrorKind::kUpstreamError) << sse;
    auto watched = agreement::watched(codec(), chat_call(true), {sse});
    EXPECT_FALSE(watched.error) << sse;
    EXPECT_FALSE(watched.complete);
  }
}

TEST(AnthropicProviderStream, UnknownEventsDeltasAndBlocksAreSkipped) {
  auto sse =
      ": comment\n\n" + kStart + event("ping", R"({"type":"ping"})") +
      event("future_event", R"({"type":"future_event","x":1})") +
      event(
          "content_block_start",
          R"({"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"s","name":"web_search","input":{}}})") +
      event("content_block_delta",
            R"({"type":"content_block_delta","index":0,"delta":{"type":"mystery_delta","x":"y"}})") +
      event("content_block_stop", R"({"type":"content_block_stop","index":0})") +
      event("content_block_start",
            R"({"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"abc"}})") +
      event("content_block_start",
            R"({"type":"content_block_start","index":2,"content_block":{"type":"text","text":"pre"}})") +
      event("content_block_delta",
            R"({"type":"content_block_delta","index":2,"delta":{"type":"citations_delta","citation":{}}})") +
      event("content_block_delta",
            R"({"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":""}})") +
      event("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"end_turn"}})") +
      event("message_stop", R"({"type":"message_stop"})") + text_delta("after the end");
  auto run = run_stream(sse, 0);
  EXPECT_FALSE(run.error);
  EXPECT_TRUE(run.complete);
  EXPECT_EQ(json::value(deltas(run.chunks)), json::parse(R"([{"role":"assistant","content":""},{"content":"pre"},
      {"finish_reason":"stop"},{"usage":{"prompt_tokens":10,"completion_tokens":1,"total_tokens":11}}])"));
}

TEST(AnthropicProviderStream, UsageLastNonNullValueWins) {
  auto start =
      event("message_start", R"({"type":"message_start","message":{"id":"m","model":"c","usage":)"
                             R"({"input_tokens":100,"cache_creation_input_tokens":20,"cache_read_input_tokens":300,)"
                             R"("output_tokens":1}}})");
  auto sse =
      start +
      event("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"max_tokens"},)"
                             R"("usage":{"input_tokens":null,"cache_read_input_tokens":50,"output_tokens":40}})") +
      event("message_delta", R"({"type":"message_delta","delta":{},"usage":{"output_tokens":42}})") +
      event("message_stop", R"({"type":"message_stop"})");
  auto run = run_stream(sse, 0);
  ASSERT_FALSE(run.error);
  EXPECT_EQ(json::value(deltas(run.chunks)),
            json::parse(R"([{"role":"assistant","content":""},{"finish_reason":"length"},
      {"usage":{"prompt_tokens":170,"completion_tokens":42,"total_tokens":212,"prompt_tokens_details":{"cached_tokens":50}}}])"));
}

TEST(AnthropicProviderStream, ToolCallIndexesCountToolBlocksOnly) {
  // Text at index 0 and tool blocks at 1 and 2: the tool calls are OpenAI indexes 0 and 1, and
  // deltas go to their own block even when interleaved.
  auto tool_start = [](int index, std::string_view id) {
    return event("content_block_start", R"({"type":"content_block_start","index":)" + std::to_string(index) +
                                            R"(,"content_block":{"type":"tool_use","id":")" + std::string(id) +
                                            R"(","name":"f","input":{}}})");
  };
  auto args = [](int index, std::string_view json) {
    return event("content_block_delta", R"({"type":"content_block_delta","index":)" + std::to_string(index) +
                                            R"(,"delta":{"type":"input_json_delta","partial_json":")" +
                                            std::string(json) + R"("}})");
  };
  auto sse = kStart + kTextStart + text_delta("x") + tool_start(1, "a") + tool_start(2, "b") + args(2, "{}") +
             args(1, "{") + args(1, "}");
  auto run = run_stream(sse, 0);
  ASSERT_FALSE(run.error);
  EXPECT_EQ(json::value(deltas(run.chunks)), json::parse(R"([{"role":"assistant","content":""},{"content":"x"},
      {"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"f","arguments":""}}]},
      {"tool_calls":[{"index":1,"id":"b","type":"function","function":{"name":"f","arguments":""}}]},
      {"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]},
      {"tool_calls":[{"index":0,"function":{"arguments":"{"}}]},
      {"tool_calls":[{"index":0,"function":{"arguments":"}"}}]}])"));
  EXPECT_FALSE(run.complete);
}

// What a continuation of a cut stream needs: the text so far, while it is text only.
TEST(AnthropicWatcher, FollowsTheTextUntilAToolThinkingOrTheFinish) {
  const std::string head =
      "event: message_start\ndata: "
      "{\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":3}}}\n\n"
      "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
      "{\"type\":\"text\",\"text\":\"\"}}\n\n"
      "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
      "{\"type\":\"text_delta\",\"text\":\"Hel\\u006co\"}}\n\n";
  auto w = codec().stream_watcher(chat_call(true));
  ASSERT_FALSE(w->feed(head));
  auto p = w->progress();
  EXPECT_EQ(p.text, "Hello");
  EXPECT_TRUE(p.continuable);
  EXPECT_EQ(p.blocks, 1u);
  ASSERT_FALSE(w->feed("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"));
  EXPECT_FALSE(w->progress().continuable) << "no text block open";
  ASSERT_FALSE(
      w->feed("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
              "{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}}\n\n"));
  EXPECT_FALSE(w->progress().continuable);
  EXPECT_TRUE(w->progress().text.empty()) << "nothing kept once it cannot be continued";
}

}  // namespace
