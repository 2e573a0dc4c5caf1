#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "formats/ollama/ollama.hpp"

using namespace anygpt;
using namespace anygpt::formats;
namespace json = boost::json;

namespace {

json::value fixture(const std::string& name) {
  std::ifstream in(std::string(ANYGPT_FIXTURES_DIR) + "/ollama/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

json::object obj(std::string_view text) {
  return json::parse(text).as_object();
}

const Moment kNow{1704067200123, 5'000'000};  // 2024-01-01T00:00:00.123Z, 5 ms in

AnswerContext ctx(std::string_view model = "llama3.2") {
  return AnswerContext{model, "req1", false, false};
}

core::Result<Canonical> decode(const Codec& codec, std::string_view body) {
  return codec.decode(json::parse(body), RouteParams{});
}

// NDJSON lines: each must end in "\n" and be one JSON object.
std::vector<json::object> lines(const std::string& out) {
  std::vector<json::object> result;
  std::size_t pos = 0;
  while (pos < out.size()) {
    auto nl = out.find('\n', pos);
    EXPECT_NE(nl, std::string::npos) << "unterminated line in: " << out;
    if (nl == std::string::npos) break;
    result.push_back(json::parse(out.substr(pos, nl - pos)).as_object());
    pos = nl + 1;
  }
  return result;
}

json::object text_chunk(std::string_view content, std::string_view finish = "") {
  json::object choice{{"index", 0}, {"delta", json::object{{"content", content}}}};
  choice["finish_reason"] = finish.empty() ? json::value(nullptr) : json::value(finish);
  return json::object{{"object", "chat.completion.chunk"}, {"choices", json::array{choice}}};
}

// A chunk carrying one tool-call fragment (raw bytes: may hold half a UTF-8 character).
json::object call_chunk(int index, std::string_view id, std::string_view name, std::string_view args) {
  json::object fn{{"arguments", json::string(args)}};
  if (!name.empty()) fn["name"] = name;
  json::object call{{"index", index}, {"function", fn}};
  if (!id.empty()) {
    call["id"] = id;
    call["type"] = "function";
  }
  json::object delta{{"tool_calls", json::array{call}}};
  return json::object{
      {"choices", json::array{json::object{{"index", 0}, {"delta", delta}, {"finish_reason", nullptr}}}}};
}

json::object finish_chunk(std::string_view reason) {
  return obj(R"({"choices":[{"index":0,"delta":{},"finish_reason":")" + std::string(reason) + R"("}]})");
}

const json::object kUsageChunk =
    obj(R"({"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}})");

core::Usage usage(std::int64_t prompt, std::int64_t completion) {
  return core::Usage{prompt, completion, prompt + completion, true};
}

void expect_final_metrics(const json::object& line, std::int64_t prompt, std::int64_t completion) {
  EXPECT_EQ(line.at("done"), true);
  EXPECT_EQ(line.at("total_duration"), 5'000'000);
  EXPECT_EQ(line.at("load_duration"), 0);
  EXPECT_EQ(line.at("prompt_eval_count"), prompt);
  EXPECT_EQ(line.at("prompt_eval_duration"), 0);
  EXPECT_EQ(line.at("eval_count"), completion);
  EXPECT_EQ(line.at("eval_duration"), 5'000'000);
}

}  // namespace

// ---------------------------------------------------------------- protocol, names, model bodies

TEST(OllamaProtocol, KeysErrorsAndAlternateName) {
  const auto& p = ollama::protocol();
  EXPECT_EQ(p.name, "ollama");
  EXPECT_TRUE(p.keys.bearer);
  for (auto h : p.keys.headers) EXPECT_TRUE(h.empty());
  EXPECT_TRUE(p.keys.query_param.empty());
  EXPECT_FALSE(p.relays_upstream_errors);
  auto e = core::make_error(core::ErrorKind::kNotFound, "model 'x' not found", "model", "model_not_found");
  EXPECT_EQ(json::parse(p.error_body(e)), json::parse(R"({"error":"model 'x' not found"})"));
  EXPECT_EQ(p.error_status(e), 404u);
  EXPECT_EQ(p.error_status(core::make_error(core::ErrorKind::kInvalidRequest, "bad")), 400u);
  EXPECT_EQ(p.error_status(core::make_error(core::ErrorKind::kRateLimited, "slow")), 429u);
  ASSERT_NE(p.alternate_model, nullptr);
  EXPECT_EQ(p.alternate_model("llama3:latest"), "llama3");
  EXPECT_EQ(p.alternate_model("llama3"), "");
  EXPECT_EQ(p.alternate_model("llama3:8b"), "");
}

TEST(OllamaProtocol, ModelNameStripsOnlyATrailingLatest) {
  EXPECT_EQ(ollama::model_name("llama3:latest"), "llama3");
  EXPECT_EQ(ollama::model_name("org/model:latest"), "org/model");
  EXPECT_EQ(ollama::model_name("llama3"), "llama3");
  EXPECT_EQ(ollama::model_name("llama3:latest:8b"), "llama3:latest:8b");
  EXPECT_EQ(ollama::model_name(":latest"), ":latest");
  EXPECT_EQ(ollama::model_name(""), "");
}

TEST(OllamaProtocol, ShowModelReadsModelThenLegacyName) {
  auto r = ollama::show_model(json::parse(R"({"model":"a","name":"b"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "a");
  r = ollama::show_model(json::parse(R"({"name":"b"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "b");
  r = ollama::show_model(json::parse(R"({"model":"","name":"b"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "b");
  for (const char* bad : {R"({})", R"({"model":5})", R"({"model":""})", R"([])", R"("x")"}) {
    auto e = ollama::show_model(json::parse(bad));
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.error().kind, core::ErrorKind::kInvalidRequest);
  }
  EXPECT_EQ(ollama::show_model(json::parse("{}")).error().param, "model");
}

TEST(OllamaProtocol, VersionBody) {
  EXPECT_EQ(json::parse(ollama::version_body()), json::parse(R"({"version":"0.6.4"})"));
}

TEST(OllamaModels, TagsBodyListsCatalogueIdsWithStableDigests) {
  std::vector<common::ModelInfo> models{{"gpt-4o", 1704067200, "openai"}, {"llama3:8b", 951868800, ""}};
  auto body = json::parse(ollama::tags_body(models));
  const auto& list = body.at("models").as_array();
  ASSERT_EQ(list.size(), 2u);
  const auto& m = list[0].as_object();
  EXPECT_EQ(m.at("name"), "gpt-4o");
  EXPECT_EQ(m.at("model"), "gpt-4o");
  EXPECT_EQ(m.at("modified_at"), "2024-01-01T00:00:00Z");
  EXPECT_EQ(m.at("size"), 0);
  EXPECT_EQ(m.at("details"), json::parse(R"({"parent_model":"","format":"gguf","family":"openai",
      "families":["openai"],"parameter_size":"","quantization_level":""})"));
  const auto& d = m.at("digest").as_string();
  EXPECT_EQ(d.size(), 64u);
  EXPECT_EQ(std::string_view(d).find_first_not_of("0123456789abcdef"), std::string_view::npos);
  const auto& m2 = list[1].as_object();
  EXPECT_EQ(m2.at("modified_at"), "2000-03-01T00:00:00Z");
  EXPECT_EQ(m2.at("details").at("families"), json::array{});
  EXPECT_NE(m2.at("digest"), m.at("digest"));
  auto again = json::parse(ollama::tags_body(models));
  EXPECT_EQ(again, body);  // no clock, no randomness
  EXPECT_EQ(json::parse(ollama::tags_body({})), json::parse(R"({"models":[]})"));
}

TEST(OllamaModels, ShowBodyHasTheShowResponseFields) {
  auto body = json::parse(ollama::show_body({"gpt-4o", 2147483648, "openai"})).as_object();
  for (const char* key : {"license", "modelfile", "parameters", "template"}) EXPECT_TRUE(body.at(key).is_string());
  EXPECT_NE(body.at("modelfile").as_string().find("FROM gpt-4o"), json::string::npos);
  EXPECT_EQ(body.at("details").at("family"), "openai");
  EXPECT_EQ(body.at("model_info").at("general.architecture"), "openai");
  EXPECT_EQ(body.at("capabilities"), json::parse(R"(["completion","tools"])"));
  EXPECT_EQ(body.at("modified_at"), "2038-01-19T03:14:08Z");
}

// ---------------------------------------------------------------- chat decode

TEST(OllamaChatDecode, FullRequestFixture) {
  auto r = ollama::chat_codec().decode(fixture("chat_request.json"), RouteParams{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->op, Operation::kChat);
  EXPECT_FALSE(r->same_bytes);
  EXPECT_EQ(r->model, "llama3.2:latest");
  EXPECT_TRUE(r->stream);  // no "stream": Ollama streams
  EXPECT_EQ(r->body, fixture("chat_canonical.json"));
}

TEST(OllamaChatDecode, StreamFalseAndMinimalMessage) {
  auto r = decode(ollama::chat_codec(), R"({"model":"m","stream":false,"messages":[{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->stream);
  EXPECT_EQ(r->body, json::parse(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})"));
  r = decode(ollama::chat_codec(), R"({"model":"m","stream":true,"messages":[{"role":"user"}]})");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->stream);
  EXPECT_EQ(r->body.at("messages").at(0).at("content"), "");
  EXPECT_EQ(r->body.at("stream_options"), json::parse(R"({"include_usage":true})"));
  r = decode(ollama::chat_codec(), R"({"model":"m","stream":null,"messages":[{"role":"user","content":null}]})");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->stream);
}

TEST(OllamaChatDecode, OptionsMapping) {
  auto r = decode(ollama::chat_codec(), R"({"model":"m","messages":[{"role":"user","content":"x"}],
      "options":{"num_predict":-2,"stop":"###","seed":1.0,"top_k":null,"num_ctx":4096,"mirostat":1}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& b = r->body.as_object();
  EXPECT_FALSE(b.contains("max_tokens"));
  EXPECT_EQ(b.at("stop"), json::parse(R"(["###"])"));
  EXPECT_EQ(b.at("seed"), 1);
  EXPECT_FALSE(b.contains("top_k"));
  EXPECT_FALSE(b.contains("num_ctx"));
  EXPECT_FALSE(b.contains("options"));
  EXPECT_FALSE(b.contains("mirostat"));
  r = decode(ollama::chat_codec(), R"({"model":"m","messages":[{"role":"user","content":"x"}],
      "options":{"num_predict":-1,"stop":[],"temperature":1},"format":"","tools":[]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, json::parse(R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1,
      "stream":true,"stream_options":{"include_usage":true}})"));
  r = decode(ollama::chat_codec(), R"({"model":"m","messages":[{"role":"user","content":"x"}],"format":"json",
      "options":null,"keep_alive":-1,"think":true,"logprobs":true})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body.at("response_format"), json::parse(R"({"type":"json_object"})"));
  for (const char* dropped : {"keep_alive", "think", "logprobs", "format"})
    EXPECT_FALSE(r->body.as_object().contains(dropped)) << dropped;
}

TEST(OllamaChatDecode, ImagesSniffMimeAndKeepDataUrls) {
  auto r = decode(ollama::chat_codec(), R"({"model":"m","messages":[{"role":"user","content":"",
      "images":["iVBORw0K","/9j/4AAQ","R0lGODlh","UklGRiQA","AAAAIGZ0eXBhdmlm","data:image/avif;base64,AAAA"]}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& parts = r->body.at("messages").at(0).at("content").as_array();
  ASSERT_EQ(parts.size(), 6u);  // no text part for empty content
  const char* urls[] = {"data:image/png;base64,iVBORw0K",         "data:image/jpeg;base64,/9j/4AAQ",
                        "data:image/gif;base64,R0lGODlh",         "data:image/webp;base64,UklGRiQA",
                        "data:image/png;base64,AAAAIGZ0eXBhdmlm", "data:image/avif;base64,AAAA"};
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(parts[i].at("type"), "image_url");
    EXPECT_EQ(parts[i].at("image_url").at("url"), urls[i]);
  }
  r = decode(ollama::chat_codec(), R"({"model":"m","messages":[{"role":"user","content":"x","images":[]}]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body.at("messages").at(0).at("content"), "x");  // plain string without images
}

TEST(OllamaChatDecode, ToolResultsMatchByNameThenOrder) {
  auto r = decode(ollama::chat_codec(), R"({"model":"m","messages":[
      {"role":"user","content":"go"},
      {"role":"assistant","content":"calling","tool_calls":[{"function":{"name":"a","arguments":{}}},
                                                             {"function":{"name":"b"}},
                                                             {"function":{"name":"a","arguments":"{\"k\":1}"}}]},
      {"role":"tool","tool_name":"a","content":"1"},
      {"role":"tool","tool_name":"a","content":"2"},
      {"role":"tool","tool_name":"zzz","content":"3"},
      {"role":"assistant","tool_calls":[{"function":{"name":"a","arguments":{"x":[1,2]}}}]},
      {"role":"tool","content":"4"}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& m = r->body.at("messages").as_array();
  const auto& calls = m[1].at("tool_calls").as_array();
  EXPECT_EQ(m[1].at("content"), "calling");  // kept when not empty
  EXPECT_EQ(calls[0].at("id"), "call_1_0");
  EXPECT_EQ(calls[1].at("function").at("arguments"), "{}");
  EXPECT_EQ(calls[2].at("function").at("arguments"), R"({"k":1})");
  EXPECT_EQ(m[2].at("tool_call_id"), "call_1_0");
  EXPECT_EQ(m[3].at("tool_call_id"), "call_1_2");
  EXPECT_EQ(m[4].at("tool_call_id"), "call_1_1");  // unknown name: the next unanswered call
  EXPECT_TRUE(m[5].at("content").is_null());
  EXPECT_EQ(m[5].at("tool_calls").at(0).at("id"), "call_5_0");
  EXPECT_EQ(m[5].at("tool_calls").at(0).at("function").at("arguments"), R"({"x":[1,2]})");
  EXPECT_EQ(m[6].at("tool_call_id"), "call_5_0");
  r = decode(ollama::chat_codec(), R"({"model":"m","messages":[{"role":"assistant","content":"","tool_calls":[]}]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body.at("messages").at(0), json::parse(R"({"role":"assistant","content":""})"));
}

TEST(OllamaChatDecode, ToolsPassThroughWithTypeFunction) {
  auto r = decode(ollama::chat_codec(), R"({"model":"m","messages":[{"role":"user","content":"x"}],
      "tools":[{"function":{"name":"f","parameters":{"type":"object"}}}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body.at("tools"),
            json::parse(R"([{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}])"));
}

TEST(OllamaChatDecode, RejectsBadFieldsNamingThem) {
  struct Case {
    const char* body;
    const char* param;
  };
  const Case cases[] = {
      {R"([])", ""},
      {R"("text")", ""},
      {R"({"messages":[{"role":"user","content":"x"}]})", "model"},
      {R"({"model":"","messages":[{"role":"user","content":"x"}]})", "model"},
      {R"({"model":7,"messages":[{"role":"user","content":"x"}]})", "model"},
      {R"({"model":"m"})", "messages"},
      {R"({"model":"m","messages":[]})", "messages"},
      {R"({"model":"m","messages":{"role":"user"}})", "messages"},
      {R"({"model":"m","messages":["hi"]})", "messages[0]"},
      {R"({"model":"m","messages":[{"content":"x"}]})", "messages[0].role"},
      {R"({"model":"m","messages":[{"role":"developer","content":"x"}]})", "messages[0].role"},
      {R"({"model":"m","messages":[{"role":"user","content":5}]})", "messages[0].content"},
      {R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]})", "messages[0].content"},
      {R"({"model":"m","messages":[{"role":"user","content":"x","images":"abc"}]})", "messages[0].images"},
      {R"({"model":"m","messages":[{"role":"user","content":"x","images":[""]}]})", "messages[0].images[0]"},
      {R"({"model":"m","messages":[{"role":"user","content":"x","images":[1]}]})", "messages[0].images[0]"},
      {R"({"model":"m","messages":[{"role":"system","content":"x","images":["iVBOR"]}]})", "messages[0].images"},
      {R"({"model":"m","messages":[{"role":"assistant","content":"x","tool_calls":{}}]})", "messages[0].tool_calls"},
      {R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{}]}]})", "messages[0].tool_calls[0].function"},
      {R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{}}]}]})",
       "messages[0].tool_calls[0].function.name"},
      {R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f","arguments":[1]}}]}]})",
       "messages[0].tool_calls[0].function.arguments"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"},{"role":"tool","content":"r"}]})", "messages[1]"},
      {R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f"}}]},
          {"role":"tool","content":"1"},{"role":"tool","content":"2"}]})",
       "messages[2]"},
      {R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f"}}]},
          {"role":"tool","tool_name":3,"content":"1"}]})",
       "messages[1].tool_name"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"})", "stream"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"options":[]})", "options"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"options":{"temperature":"hot"}})",
       "options.temperature"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"options":{"top_p":true}})", "options.top_p"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"options":{"top_k":1.5}})", "options.top_k"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"options":{"seed":"1"}})", "options.seed"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"options":{"num_predict":0}})",
       "options.num_predict"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"options":{"num_predict":-3}})",
       "options.num_predict"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"options":{"num_predict":"10"}})",
       "options.num_predict"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"options":{"stop":[1]}})", "options.stop"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"options":{"stop":5}})", "options.stop"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"format":"yaml"})", "format"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"format":[]})", "format"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":{}})", "tools"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[1]})", "tools[0]"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"web"}]})", "tools[0].type"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]})",
       "tools[0].function.name"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"function":{"name":""}}]})",
       "tools[0].function.name"},
  };
  for (const auto& c : cases) {
    auto r = decode(ollama::chat_codec(), c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().kind, core::ErrorKind::kInvalidRequest) << c.body;
    EXPECT_EQ(r.error().param, c.param) << c.body << " -> " << r.error().message;
    EXPECT_FALSE(r.error().message.empty());
  }
}

// ---------------------------------------------------------------- generate decode

TEST(OllamaGenerateDecode, FullRequestFixture) {
  auto r = ollama::generate_codec().decode(fixture("generate_request.json"), RouteParams{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->op, Operation::kChat);
  EXPECT_EQ(r->model, "llava");
  EXPECT_FALSE(r->stream);
  EXPECT_EQ(r->body, fixture("generate_canonical.json"));  // raw, template, context, keep_alive dropped
}

TEST(OllamaGenerateDecode, PromptOnlyStreamsByDefault) {
  auto r = decode(ollama::generate_codec(), R"({"model":"m","prompt":"Why is the sky blue?","suffix":"","system":""})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->stream);
  EXPECT_EQ(r->body, json::parse(R"({"model":"m","messages":[{"role":"user","content":"Why is the sky blue?"}],
      "stream":true,"stream_options":{"include_usage":true}})"));
  r = decode(ollama::generate_codec(), R"({"model":"m","images":["iVBOR"]})");
  ASSERT_TRUE(r.ok());  // images alone are a prompt
  EXPECT_EQ(r->body.at("messages").at(0).at("content").as_array().size(), 1u);
}

TEST(OllamaGenerateDecode, RejectsBadFieldsNamingThem) {
  struct Case {
    const char* body;
    const char* param;
  };
  const Case cases[] = {
      {R"(null)", ""},
      {R"({"prompt":"x"})", "model"},
      {R"({"model":"m"})", "prompt"},
      {R"({"model":"m","prompt":""})", "prompt"},
      {R"({"model":"m","prompt":["x"]})", "prompt"},
      {R"({"model":"m","prompt":"x","system":1})", "system"},
      {R"({"model":"m","prompt":"def f(","suffix":"return x"})", "suffix"},
      {R"({"model":"m","prompt":"x","suffix":2})", "suffix"},
      {R"({"model":"m","prompt":"x","images":[null]})", "images[0]"},
      {R"({"model":"m","prompt":"x","images":{}})", "images"},
      {R"({"model":"m","prompt":"x","stream":1})", "stream"},
      {R"({"model":"m","prompt":"x","format":5})", "format"},
      {R"({"model":"m","prompt":"x","options":{"frequency_penalty":[]}})", "options.frequency_penalty"},
  };
  for (const auto& c : cases) {
    auto r = decode(ollama::generate_codec(), c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().kind, core::ErrorKind::kInvalidRequest) << c.body;
    EXPECT_EQ(r.error().param, c.param) << c.body << " -> " << r.error().message;
  }
}

// ---------------------------------------------------------------- answers

TEST(OllamaAnswer, ChatFixtureWithToolCallsAndThinking) {
  auto out = ollama::chat_codec().encode(fixture("chat_answer.json").as_object(), ctx(), kNow);
  EXPECT_EQ(json::parse(out), fixture("chat_answer_ollama.json"));
  EXPECT_EQ(ollama::chat_codec().content_type(), "application/json");
  EXPECT_FALSE(ollama::chat_codec().relays_answer());
}

TEST(OllamaAnswer, DoneReasonMapping) {
  struct Case {
    const char* finish;
    const char* done;
  };
  for (auto c : {Case{"stop", "stop"}, Case{"length", "length"}, Case{"tool_calls", "stop"},
                 Case{"content_filter", "stop"}, Case{"function_call", "stop"}}) {
    auto answer = obj(R"({"choices":[{"message":{"role":"assistant","content":"x"},"finish_reason":")" +
                      std::string(c.finish) + R"("}],"usage":{"prompt_tokens":1,"completion_tokens":1}})");
    auto out = json::parse(ollama::chat_codec().encode(answer, ctx(), kNow));
    EXPECT_EQ(out.at("done_reason"), c.done) << c.finish;
  }
}

TEST(OllamaAnswer, OddAnswersStillRenderADoneBody) {
  // No choices at all, no usage.
  auto out = json::parse(ollama::chat_codec().encode(obj(R"({"id":"x"})"), ctx("m"), kNow)).as_object();
  EXPECT_EQ(out.at("message"), json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_EQ(out.at("done_reason"), "stop");
  expect_final_metrics(out, 0, 0);
  // Null content with a refusal; array content parts; usage absent -> estimated eval_count.
  out = json::parse(ollama::chat_codec().encode(
                        obj(R"({"choices":[{"message":{"content":null,"refusal":"I can't"},"finish_reason":null}]})"),
                        ctx(), kNow))
            .as_object();
  EXPECT_EQ(out.at("message").at("content"), "I can't");
  EXPECT_EQ(out.at("eval_count"), 2);  // ceil(7 / 4)
  out = json::parse(ollama::chat_codec().encode(
                        obj(R"({"choices":[{"message":{"content":[{"type":"text","text":"ab"},{"type":"x"},
                            {"type":"text","text":"cd"}]},"finish_reason":"stop"}]})"),
                        ctx(), kNow))
            .as_object();
  EXPECT_EQ(out.at("message").at("content"), "abcd");
  EXPECT_FALSE(out.at("message").as_object().contains("tool_calls"));
}

TEST(OllamaAnswer, GenerateUsesResponseField) {
  auto answer = obj(R"({"choices":[{"message":{"role":"assistant","content":"Rayleigh scattering.",
      "reasoning":"physics"},"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}})");
  auto out = json::parse(ollama::generate_codec().encode(answer, ctx("llama3"), kNow)).as_object();
  EXPECT_EQ(out.at("model"), "llama3");
  EXPECT_EQ(out.at("created_at"), "2024-01-01T00:00:00.123Z");
  EXPECT_EQ(out.at("response"), "Rayleigh scattering.");
  EXPECT_EQ(out.at("thinking"), "physics");
  EXPECT_FALSE(out.contains("message"));
  EXPECT_EQ(out.at("done_reason"), "length");
  expect_final_metrics(out, 5, 3);
}

TEST(OllamaAnswer, CreatedAtIsRfc3339UtcWithMilliseconds) {
  auto answer = obj(R"({"choices":[]})");
  auto at = [&](std::int64_t wall_ms) {
    return json::parse(ollama::generate_codec().encode(answer, ctx(), Moment{wall_ms, 0})).at("created_at");
  };
  EXPECT_EQ(at(1709251199999), "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(at(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(at(-5), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(at(951868800000 - 1), "2000-02-29T23:59:59.999Z");
  EXPECT_EQ(at(4102444800007), "2100-01-01T00:00:00.007Z");
}

// ---------------------------------------------------------------- streams

TEST(OllamaStream, TextDeltasAreEmittedAsTheyArrive) {
  auto enc = ollama::chat_codec().stream(ctx());
  EXPECT_EQ(enc->content_type(), "application/x-ndjson");
  std::string out;
  enc->chunk(obj(R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})"), kNow,
             out);
  EXPECT_TRUE(out.empty());  // role-only opening chunk
  enc->chunk(text_chunk("Hel"), kNow, out);
  auto l = lines(out);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0], json::parse(R"({"model":"llama3.2","created_at":"2024-01-01T00:00:00.123Z",
      "message":{"role":"assistant","content":"Hel"},"done":false})"));
  out.clear();
  enc->chunk(text_chunk("lo\nworld"), kNow, out);
  ASSERT_EQ(lines(out).size(), 1u);  // the newline inside the text is escaped
  EXPECT_EQ(lines(out)[0].at("message").at("content"), "lo\nworld");
  out.clear();
  enc->chunk(text_chunk("", "stop"), kNow, out);
  EXPECT_TRUE(out.empty());  // the finish waits for usage
  enc->chunk(kUsageChunk, kNow, out);
  EXPECT_TRUE(out.empty());
  enc->finish(usage(9, 4), kNow, out);
  l = lines(out);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].at("message"), json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_EQ(l[0].at("done_reason"), "stop");
  expect_final_metrics(l[0], 9, 4);
}

TEST(OllamaStream, ToolCallsAreAssembledAcrossChunksAndSentWhole) {
  auto enc = ollama::chat_codec().stream(ctx());
  std::string out;
  enc->chunk(call_chunk(0, "call_1", "get_weather", ""), kNow, out);
  enc->chunk(call_chunk(0, "", "", "{\"city\":\"Z\xC3"), kNow, out);  // splits "ü" (C3 BC)
  enc->chunk(call_chunk(1, "call_2", "get_time", "{\"tz\":"), kNow, out);
  enc->chunk(call_chunk(0, "", "", "\xBCrich\"}"), kNow, out);
  enc->chunk(call_chunk(1, "", "", "\"CET\"}"), kNow, out);
  EXPECT_TRUE(out.empty());  // Ollama tool calls arrive whole
  enc->chunk(finish_chunk("tool_calls"), kNow, out);
  auto l = lines(out);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0], json::parse(R"({"model":"llama3.2","created_at":"2024-01-01T00:00:00.123Z",
      "message":{"role":"assistant","content":"","tool_calls":[
        {"function":{"name":"get_weather","arguments":{"city":"Zürich"}}},
        {"function":{"name":"get_time","arguments":{"tz":"CET"}}}]},"done":false})"));
  out.clear();
  enc->chunk(kUsageChunk, kNow, out);
  enc->finish(usage(9, 4), kNow, out);
  l = lines(out);
  ASSERT_EQ(l.size(), 1u);  // calls are not repeated
  EXPECT_EQ(l[0].at("done_reason"), "stop");
  EXPECT_FALSE(l[0].at("message").as_object().contains("tool_calls"));
}

TEST(OllamaStream, EndWithoutFinishChunkFlushesPendingCalls) {
  auto enc = ollama::chat_codec().stream(ctx());
  std::string out;
  enc->chunk(text_chunk("Checking."), kNow, out);
  enc->chunk(call_chunk(0, "c", "lookup", "{\"q\":"), kNow, out);
  enc->chunk(call_chunk(0, "", "", "\"x\"}"), kNow, out);
  ASSERT_EQ(lines(out).size(), 1u);
  out.clear();
  enc->finish(core::Usage{0, 3, 3, false}, kNow, out);
  auto l = lines(out);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].at("message").at("tool_calls"),
            json::parse(R"([{"function":{"name":"lookup","arguments":{"q":"x"}}}])"));
  EXPECT_EQ(l[0].at("done"), false);
  EXPECT_EQ(l[1].at("done_reason"), "stop");
  expect_final_metrics(l[1], 0, 3);
}

TEST(OllamaStream, LengthFinishAndBrokenArguments) {
  auto enc = ollama::chat_codec().stream(ctx());
  std::string out;
  enc->chunk(call_chunk(0, "c", "f", "{\"a\":"), kNow, out);
  enc->chunk(finish_chunk("length"), kNow, out);  // cut off mid-arguments
  enc->finish(usage(1, 2), kNow, out);
  auto l = lines(out);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].at("message").at("tool_calls").at(0).at("function").at("arguments"),
            json::parse(R"({"_raw":"{\"a\":"})"));
  EXPECT_EQ(l[1].at("done_reason"), "length");
}

TEST(OllamaStream, NoContentAtAll) {
  auto enc = ollama::chat_codec().stream(ctx());
  std::string out;
  enc->chunk(obj(R"({"choices":[]})"), kNow, out);
  enc->chunk(obj(R"({"id":"x"})"), kNow, out);
  enc->chunk(obj(R"({"choices":[{"index":0,"delta":null}]})"), kNow, out);
  enc->chunk(obj(R"({"choices":["junk"]})"), kNow, out);
  EXPECT_TRUE(out.empty());
  enc->finish(core::Usage{}, kNow, out);
  auto l = lines(out);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].at("done_reason"), "stop");
  expect_final_metrics(l[0], 0, 0);
}

TEST(OllamaStream, UsageOnlyFinalChunkEmitsNothingItself) {
  auto enc = ollama::generate_codec().stream(ctx());
  std::string out;
  enc->chunk(kUsageChunk, kNow, out);
  EXPECT_TRUE(out.empty());
}

TEST(OllamaStream, FailMidStreamWritesAnErrorLine) {
  auto enc = ollama::chat_codec().stream(ctx());
  std::string out;
  enc->chunk(text_chunk("partial"), kNow, out);
  enc->fail(core::make_error(core::ErrorKind::kUpstreamError, "Provider 'p' stream failed: \"reset\"\n"), out);
  auto l = lines(out);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[1], json::parse(R"({"error":"Provider 'p' stream failed: \"reset\"\n"})"));
}

TEST(OllamaStream, GenerateStreamsResponseAndThinking) {
  auto enc = ollama::generate_codec().stream(ctx("llama3"));
  std::string out;
  enc->chunk(obj(R"({"choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]})"), kNow, out);
  enc->chunk(text_chunk("The"), kNow, out);
  enc->chunk(call_chunk(0, "c", "f", "{}"), kNow, out);  // generate has no tool calls
  enc->chunk(obj(R"({"choices":[{"index":0,"delta":{"refusal":"no"},"finish_reason":"content_filter"}]})"), kNow, out);
  enc->finish(usage(2, 2), kNow, out);
  auto l = lines(out);
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(l[0], json::parse(R"({"model":"llama3","created_at":"2024-01-01T00:00:00.123Z","response":"",
      "thinking":"hmm","done":false})"));
  EXPECT_EQ(l[1].at("response"), "The");
  EXPECT_EQ(l[2].at("response"), "no");
  EXPECT_EQ(l[3].at("response"), "");
  EXPECT_EQ(l[3].at("done_reason"), "stop");
  expect_final_metrics(l[3], 2, 2);
  for (const auto& line : l) EXPECT_FALSE(line.contains("message"));
}

TEST(OllamaStream, ChatThinkingDeltas) {
  auto enc = ollama::chat_codec().stream(ctx());
  std::string out;
  enc->chunk(obj(R"({"choices":[{"index":0,"delta":{"reasoning":"step 1","content":"A"}}]})"), kNow, out);
  auto l = lines(out);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].at("message"), json::parse(R"({"role":"assistant","content":"A","thinking":"step 1"})"));
}

// ---------------------------------------------------------------- embeddings

TEST(OllamaEmbed, DecodesStringAndArrayInput) {
  auto r = decode(ollama::embed_codec(), R"({"model":"all-minilm","input":"Why is the sky blue?","truncate":true,
      "keep_alive":"1m","options":{"num_ctx":512}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->op, Operation::kEmbeddings);
  EXPECT_FALSE(r->stream);
  EXPECT_EQ(r->model, "all-minilm");
  EXPECT_EQ(r->body, json::parse(R"({"model":"all-minilm","input":"Why is the sky blue?","encoding_format":"float"})"));
  r = decode(ollama::embed_codec(), R"({"model":"e","input":["a","b"],"dimensions":256})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->body, json::parse(R"({"model":"e","input":["a","b"],"encoding_format":"float","dimensions":256})"));
}

TEST(OllamaEmbed, RejectsBadFieldsNamingThem) {
  struct Case {
    const char* body;
    const char* param;
  };
  const Case cases[] = {
      {R"(1)", ""},
      {R"({"input":"x"})", "model"},
      {R"({"model":"e"})", "input"},
      {R"({"model":"e","input":""})", "input"},
      {R"({"model":"e","input":[]})", "input"},
      {R"({"model":"e","input":5})", "input"},
      {R"({"model":"e","input":["a",""]})", "input[1]"},
      {R"({"model":"e","input":["a",2]})", "input[1]"},
      {R"({"model":"e","input":"x","dimensions":0})", "dimensions"},
      {R"({"model":"e","input":"x","dimensions":1.5})", "dimensions"},
      {R"({"model":"e","input":"x","dimensions":"8"})", "dimensions"},
      {R"({"model":"e","input":"x","truncate":"yes"})", "truncate"},
  };
  for (const auto& c : cases) {
    auto r = decode(ollama::embed_codec(), c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().kind, core::ErrorKind::kInvalidRequest) << c.body;
    EXPECT_EQ(r.error().param, c.param) << c.body << " -> " << r.error().message;
  }
}

TEST(OllamaEmbed, EncodesVectorsInIndexOrder) {
  auto answer = obj(R"({"object":"list","model":"up","data":[
      {"object":"embedding","index":1,"embedding":[0.5,-1]},
      {"object":"embedding","index":0,"embedding":[0.25,2]},
      {"object":"embedding","index":2,"embedding":"AAAA"}],
      "usage":{"prompt_tokens":8,"total_tokens":8}})");
  auto out = json::parse(ollama::embed_codec().encode(answer, ctx("all-minilm"), kNow));
  EXPECT_EQ(out, json::parse(R"({"model":"all-minilm","embeddings":[[0.25,2],[0.5,-1],[]],
      "total_duration":5000000,"load_duration":0,"prompt_eval_count":8})"));
  out = json::parse(ollama::embed_codec().encode(obj(R"({"data":null})"), ctx("e"), kNow));
  EXPECT_EQ(out.at("embeddings"), json::array{});
  EXPECT_EQ(out.at("prompt_eval_count"), 0);
  EXPECT_EQ(ollama::embed_codec().stream(ctx()), nullptr);
}

TEST(OllamaEmbeddings, LegacyPromptAndSingleVector) {
  auto r = decode(ollama::embeddings_codec(), R"({"model":"e","prompt":"Here is an article"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->op, Operation::kEmbeddings);
  EXPECT_FALSE(r->stream);
  EXPECT_EQ(r->body, json::parse(R"({"model":"e","input":"Here is an article","encoding_format":"float"})"));
  for (const char* bad : {R"({"model":"e"})", R"({"model":"e","prompt":""})", R"({"model":"e","prompt":["x"]})"}) {
    auto e = decode(ollama::embeddings_codec(), bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.error().param, "prompt");
  }
  EXPECT_EQ(decode(ollama::embeddings_codec(), R"({"prompt":"x"})").error().param, "model");
  auto out = ollama::embeddings_codec().encode(obj(R"({"data":[{"index":0,"embedding":[0.1,0.2]}]})"), ctx(), kNow);
  EXPECT_EQ(json::parse(out), json::parse(R"({"embedding":[0.1,0.2]})"));
  out = ollama::embeddings_codec().encode(obj(R"({"data":[]})"), ctx(), kNow);
  EXPECT_EQ(json::parse(out), json::parse(R"({"embedding":[]})"));
}
