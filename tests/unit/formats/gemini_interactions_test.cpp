// formats/gemini/interactions: Interactions API requests -> canonical chat, chat answers ->
// Interaction objects.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "formats/gemini/interactions.hpp"

using namespace anygpt;
using namespace anygpt::formats;
namespace json = boost::json;

namespace {

core::Result<Canonical> decode(std::string_view body) {
  return gemini::interactions_codec().decode(json::parse(body), RouteParams{});
}

json::object chat(std::string_view body) {
  auto r = decode(body);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r->body.as_object() : json::object{};
}

// The field a refused request names.
std::string refused(std::string_view body) {
  auto r = decode(body);
  EXPECT_FALSE(r.ok()) << body;
  if (r.ok()) return "(accepted)";
  EXPECT_EQ(r.error().kind, core::ErrorKind::kInvalidRequest);
  return r.error().param;
}

json::object encoded(std::string_view answer, std::string_view request_id = "req1") {
  AnswerContext ctx{"gemini-x", request_id, false, false, nullptr};
  return json::parse(
             gemini::interactions_codec().encode(json::parse(answer).as_object(), ctx, Moment{1767225600123, 0}))
      .as_object();
}

}  // namespace

TEST(GeminiInteractions, AStringInputIsOneUserMessageAndTheRequestIsNeverAStream) {
  auto r = decode(R"({"model":"models/gemini-x","input":"Tell me a joke","background":true,"store":true})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->model, "gemini-x");
  EXPECT_EQ(r->op, Operation::kChat);
  EXPECT_FALSE(r->stream);
  EXPECT_FALSE(r->same_bytes);
  EXPECT_EQ(json::serialize(r->body),
            R"({"model":"gemini-x","messages":[{"role":"user","content":"Tell me a joke"}]})");
}

TEST(GeminiInteractions, PeekNeedsOnlyModelAndInput) {
  auto r = gemini::interactions_codec().peek(json::parse(R"({"model":"m","input":"hi"})"), RouteParams{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->model, "m");
  EXPECT_TRUE(r->body.is_null());
}

TEST(GeminiInteractions, MissingModelOrInputIsA400NamingIt) {
  EXPECT_EQ(refused(R"({"input":"hi"})"), "model");
  EXPECT_EQ(refused(R"({"model":"","input":"hi"})"), "model");
  EXPECT_EQ(refused(R"({"model":"m"})"), "input");
  EXPECT_EQ(refused(R"({"model":"m","input":""})"), "input");
  EXPECT_EQ(refused(R"({"model":"m","input":[]})"), "input");
  EXPECT_EQ(refused(R"([1])"), "");
}

TEST(GeminiInteractions, WhatNeedsStateOrAgentsIsRefused) {
  EXPECT_EQ(refused(R"({"model":"m","input":"hi","stream":true})"), "stream");
  EXPECT_EQ(refused(R"({"model":"m","input":"hi","previous_interaction_id":"int_1"})"), "previous_interaction_id");
  EXPECT_EQ(refused(R"({"model":"m","input":"hi","agent":"deep-research"})"), "agent");
  EXPECT_EQ(refused(R"({"model":"m","input":"hi","tools":[{"type":"google_search"}]})"), "tools[0].type");
  EXPECT_TRUE(decode(R"({"model":"m","input":"hi","stream":false,"previous_interaction_id":null})").ok());
}

TEST(GeminiInteractions, ContentItemsBecomeOneUserMessageWithParts) {
  auto c = chat(R"({"model":"m","input":[{"type":"text","text":"What is this?"},
                    {"type":"image","data":"AAAA","mime_type":"image/png"},
                    {"type":"image","uri":"https://example.com/cat.jpg"}]})");
  EXPECT_EQ(json::serialize(c["messages"]),
            R"([{"role":"user","content":[{"type":"text","text":"What is this?"},)"
            R"({"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},)"
            R"({"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]}])");
  EXPECT_EQ(refused(R"({"model":"m","input":[{"type":"image","data":"AAAA"}]})"), "input[0].mime_type");
  EXPECT_EQ(refused(R"({"model":"m","input":[{"type":"video","uri":"x"}]})"), "input[0].type");
  EXPECT_EQ(refused(R"({"model":"m","input":[{"text":"no type"}]})"), "input[0].type");
}

TEST(GeminiInteractions, OneContentObjectIsAccepted) {
  auto c = chat(R"({"model":"m","input":{"type":"text","text":"hello"}})");
  EXPECT_EQ(json::serialize(c["messages"]), R"([{"role":"user","content":"hello"}])");
}

TEST(GeminiInteractions, TurnsAndStepsKeepTheConversationInOrder) {
  auto turns = chat(R"({"model":"m","system_instruction":"Be brief.","input":[
      {"role":"user","content":"Hi"},{"role":"model","content":[{"type":"text","text":"Hello!"}]},
      {"role":"user","content":[{"type":"text","text":"How are you?"}]}]})");
  EXPECT_EQ(json::serialize(turns["messages"]),
            R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},)"
            R"({"role":"assistant","content":"Hello!"},{"role":"user","content":"How are you?"}])");
  auto steps = chat(R"({"model":"m","input":[
      {"type":"user_input","content":[{"type":"text","text":"Weather in Paris?"}]},
      {"type":"thought","summary":[]},
      {"type":"function_call","id":"c1","name":"weather","arguments":{"city":"Paris"}},
      {"type":"function_result","call_id":"c1","name":"weather","result":"sunny"},
      {"type":"function_result","call_id":"c2","result":{"temp":21},"is_error":true}]})");
  EXPECT_EQ(json::serialize(steps["messages"]),
            R"([{"role":"user","content":"Weather in Paris?"},)"
            R"({"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",)"
            R"("function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}}]},)"
            R"({"role":"tool","tool_call_id":"c1","content":"sunny"},)"
            R"({"role":"tool","tool_call_id":"c2","content":"Error: {\"temp\":21}"}])");
  EXPECT_EQ(refused(R"({"model":"m","input":[{"role":"system","content":"x"}]})"), "input[0].role");
  EXPECT_EQ(refused(R"({"model":"m","input":[{"role":"model","content":[{"type":"image","uri":"u"}]}]})"),
            "input[0].content[0]");
  EXPECT_EQ(refused(R"({"model":"m","input":[{"type":"function_call","name":"f"}]})"), "input[0].id");
  EXPECT_EQ(refused(R"({"model":"m","input":[{"type":"function_result","result":"x"}]})"), "input[0].call_id");
  EXPECT_EQ(refused(R"({"model":"m","input":[{"type":"thought"}]})"), "input");
}

TEST(GeminiInteractions, ToolsSettingsAndFormatsAreMapped) {
  auto c = chat(R"({"model":"m","input":"go",
      "tools":[{"type":"function","name":"f","description":"does f","parameters":{"type":"object"}},
               {"type":"function","name":"g"}],
      "generation_config":{"temperature":0.2,"top_p":0.9,"seed":7,"max_output_tokens":64,
                           "stop_sequences":["END"],"thinking_level":"low",
                           "tool_choice":{"allowed_tools":{"mode":"any","tools":["g"]}}},
      "response_format":{"type":"text","mime_type":"application/json","schema":{"type":"object"}}})");
  EXPECT_EQ(json::serialize(c["tools"]),
            R"([{"type":"function","function":{"name":"g","parameters":{"type":"object","properties":{}}}}])");
  EXPECT_EQ(c["tool_choice"], "required");
  EXPECT_EQ(c["temperature"], 0.2);
  EXPECT_EQ(c["top_p"], 0.9);
  EXPECT_EQ(c["seed"], 7);
  EXPECT_EQ(c["max_tokens"], 64);
  EXPECT_EQ(json::serialize(c["stop"]), R"(["END"])");
  EXPECT_FALSE(c.contains("thinking_level"));
  EXPECT_EQ(json::serialize(c["response_format"]),
            R"({"type":"json_schema","json_schema":{"name":"response","schema":{"type":"object"}}})");
  // The original's form: the schema itself.
  auto bare = chat(R"({"model":"m","input":"go","response_format":{"type":"object","properties":{"a":{}}}})");
  EXPECT_EQ(bare["response_format"].as_object()["type"], "json_schema");
  auto plain_json =
      chat(R"({"model":"m","input":"go","response_format":{"type":"text","mime_type":"application/json"}})");
  EXPECT_EQ(json::serialize(plain_json["response_format"]), R"({"type":"json_object"})");
  auto tools_auto = chat(R"({"model":"m","input":"go","tools":[{"type":"function","name":"f"}],
                             "generation_config":{"tool_choice":"none"}})");
  EXPECT_EQ(tools_auto["tool_choice"], "none");
  auto none_allowed = chat(R"({"model":"m","input":"go","tools":[{"type":"function","name":"f"}],
                               "generation_config":{"tool_choice":{"allowed_tools":{"mode":"any","tools":["x"]}}}})");
  EXPECT_FALSE(none_allowed.contains("tools"));
  EXPECT_FALSE(none_allowed.contains("tool_choice"));
  EXPECT_EQ(refused(R"({"model":"m","input":"go","generation_config":{"max_output_tokens":0}})"),
            "generation_config.max_output_tokens");
  EXPECT_EQ(refused(R"({"model":"m","input":"go","generation_config":{"temperature":"hot"}})"),
            "generation_config.temperature");
  EXPECT_EQ(refused(R"({"model":"m","input":"go","response_format":{"type":"image"}})"), "response_format.type");
  EXPECT_EQ(refused(R"({"model":"m","input":"go","tools":[{"type":"function"}]})"), "tools[0].name");
}

TEST(GeminiInteractions, ATextAnswerIsACompletedInteraction) {
  auto i = encoded(R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"up",
      "choices":[{"index":0,"message":{"role":"assistant","content":"Why did the chicken..."},"finish_reason":"stop"}],
      "usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}})");
  EXPECT_EQ(i["id"], "int_req1");
  EXPECT_EQ(i["object"], "interaction");
  EXPECT_EQ(i["model"], "gemini-x");
  EXPECT_EQ(i["status"], "completed");
  EXPECT_EQ(i["created"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(i["output_text"], "Why did the chicken...");
  EXPECT_EQ(json::serialize(i["outputs"]), R"([{"type":"text","text":"Why did the chicken..."}])");
  EXPECT_EQ(json::serialize(i["steps"]),
            R"([{"type":"model_output","content":[{"type":"text","text":"Why did the chicken..."}]}])");
  EXPECT_EQ(json::serialize(i["usage"]), R"({"total_input_tokens":5,"total_output_tokens":7,"total_tokens":12})");
}

TEST(GeminiInteractions, ToolCallsAskForActionAndLengthIsIncomplete) {
  auto i = encoded(R"({"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[
      {"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}}]},
      "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}})");
  EXPECT_EQ(i["status"], "requires_action");
  EXPECT_EQ(json::serialize(i["outputs"]),
            R"([{"type":"function_call","id":"call_1","name":"weather","arguments":{"city":"Paris"}}])");
  EXPECT_EQ(json::serialize(i["steps"]),
            R"([{"type":"function_call","id":"call_1","name":"weather","arguments":{"city":"Paris"}}])");
  EXPECT_EQ(i["output_text"], "");
  auto cut = encoded(R"({"choices":[{"index":0,"message":{"role":"assistant","content":"Once upon"},
      "finish_reason":"length"}]})");
  EXPECT_EQ(cut["status"], "incomplete");
  EXPECT_EQ(json::serialize(cut["usage"]), R"({"total_input_tokens":0,"total_output_tokens":0,"total_tokens":0})");
}

TEST(GeminiInteractions, TheIdCanBeReplaced) {
  auto body = gemini::interactions_codec().encode(
      json::parse(R"({"choices":[{"message":{"content":"x"},"finish_reason":"stop"}]})").as_object(),
      AnswerContext{"m", "r", false, false, nullptr}, Moment{});
  auto replaced = json::parse(gemini::with_interaction_id(body, "int_abc")).as_object();
  EXPECT_EQ(replaced["id"], "int_abc");
  EXPECT_EQ(replaced["output_text"], "x");
  EXPECT_EQ(gemini::with_interaction_id("not json", "int_abc"), "not json");
}

TEST(GeminiInteractions, TheProtocolHasGeminisKeysAndErrorsUnderItsOwnName) {
  const auto& p = gemini::interactions_protocol();
  EXPECT_EQ(p.name, "gemini-interactions");
  EXPECT_EQ(p.keys.query_param, "key");
  EXPECT_EQ(p.keys.headers[0], "x-goog-api-key");
  auto body = json::parse(p.error_body(core::make_error(core::ErrorKind::kNotFound, "gone")));
  EXPECT_EQ(body.at("error").at("status"), "NOT_FOUND");
}
