// The Responses API codec: requests decoded to canonical chat, answers encoded as Response objects.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "formats/responses/answer.hpp"
#include "formats/responses/responses.hpp"
#include "sse_events.hpp"

using namespace anygpt;
using namespace anygpt::formats;
namespace json = boost::json;
namespace rs = anygpt::formats::responses;
using core::ErrorKind;

namespace {

json::value fixture(const std::string& name) {
  return format_tests::fixture("responses", name);
}

core::Result<Canonical> decode(std::string_view body) {
  return rs::codec().decode(json::parse(body), RouteParams{});
}

// The canonical body of a request made of `model` plus `fields` (JSON object members).
json::value chat_of(std::string_view fields) {
  auto r = decode(R"({"model":"m",)" + std::string(fields) + "}");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r->body : json::value();
}

// The messages of a request whose input is `input` (JSON text).
json::value messages_of(std::string_view input) {
  auto chat = chat_of(R"("input":)" + std::string(input));
  return chat.is_object() ? chat.at("messages") : json::value();
}

// The param a rejected request names (and that it is a 400).
std::string rejected(std::string_view body) {
  auto r = decode(body);
  EXPECT_FALSE(r.ok()) << body;
  if (r.ok()) return "<accepted>";
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest);
  EXPECT_FALSE(r.error().message.empty());
  return r.error().param;
}

std::string rejected_input(std::string_view input) {
  return rejected(R"({"model":"m","input":)" + std::string(input) + "}");
}

std::string rejected_with(std::string_view fields) {
  return rejected(R"({"model":"m","input":"hi",)" + std::string(fields) + "}");
}

json::object answer(std::string_view text) {
  return json::parse(text).as_object();
}

json::value encoded(const json::object& chat, const json::value* request = nullptr,
                    std::string_view request_id = "req1") {
  AnswerContext ctx{"gpt-test", request_id, false, false, request};
  return json::parse(rs::codec().encode(chat, ctx, Moment{1718000123456, 0}));
}

}  // namespace

// ---- request decode ----

TEST(ResponsesRequest, FullFixtureMapsToCanonicalChat) {
  auto r = rs::codec().decode(fixture("request_full.json"), RouteParams{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, fixture("request_full.canonical.json")) << json::serialize(r->body);
  EXPECT_EQ(r->model, "gpt-test");
  EXPECT_TRUE(r->stream);
  EXPECT_FALSE(r->same_bytes);
  EXPECT_EQ(r->op, Operation::kChat);
}

TEST(ResponsesRequest, StringInputIsOneUserMessage) {
  auto r = decode(R"({"model":"m","input":"hello"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, json::parse(R"({"model":"m","messages":[{"role":"user","content":"hello"}]})"));
  EXPECT_FALSE(r->stream);
}

TEST(ResponsesRequest, InstructionsComeFirstAsSystem) {
  EXPECT_EQ(chat_of(R"("instructions":"be brief","input":"q")").at("messages"),
            json::parse(R"([{"role":"system","content":"be brief"},{"role":"user","content":"q"}])"));
  EXPECT_EQ(chat_of(R"("instructions":"","input":"q")").at("messages"),
            json::parse(R"([{"role":"user","content":"q"}])"));
  EXPECT_EQ(rejected_with(R"("instructions":["x"])"), "instructions");
}

TEST(ResponsesRequest, NullOptionalsAndStreamFalseAreOmitted) {
  EXPECT_EQ(chat_of(R"("input":"q","stream":false,"instructions":null,"tools":null,"tool_choice":null,
                       "temperature":null,"top_p":null,"max_output_tokens":null,"text":null,"reasoning":null,
                       "previous_response_id":null,"store":false,"metadata":null,"background":false,"user":null)"),
            json::parse(R"({"model":"m","messages":[{"role":"user","content":"q"}]})"));
}

TEST(ResponsesRequest, MissingInputIsA400NamingIt) {
  EXPECT_EQ(rejected(R"({"model":"m"})"), "input");
  EXPECT_EQ(rejected(R"({"model":"m","input":null})"), "input");
  EXPECT_EQ(rejected(R"({"model":"m","input":[]})"), "input");
  EXPECT_EQ(rejected(R"({"model":"m","input":42})"), "input");
  EXPECT_EQ(rejected(R"({"model":"m","input":{"role":"user","content":"x"}})"), "input");
  EXPECT_EQ(rejected(R"({"model":"m","input":[{"type":"reasoning","summary":[]}]})"), "input");
}

TEST(ResponsesRequest, ModelIsRequired) {
  EXPECT_EQ(rejected(R"({"input":"q"})"), "model");
  EXPECT_EQ(rejected(R"({"model":"","input":"q"})"), "model");
  EXPECT_EQ(rejected(R"({"model":7,"input":"q"})"), "model");
  EXPECT_EQ(rejected(R"(["not an object"])"), "");
}

TEST(ResponsesRequest, UserContentIsAStringForOneTextPart) {
  EXPECT_EQ(messages_of(R"([{"role":"user","content":[{"type":"input_text","text":"a"}]}])"),
            json::parse(R"([{"role":"user","content":"a"}])"));
  EXPECT_EQ(
      messages_of(R"([{"role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_text","text":"b"}]}])"),
      json::parse(R"([{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}])"));
  EXPECT_EQ(messages_of(R"([{"role":"user","content":""}])"), json::parse(R"([{"role":"user","content":""}])"));
}

TEST(ResponsesRequest, SystemAndDeveloperTextIsJoined) {
  EXPECT_EQ(
      messages_of(R"([{"role":"system","content":[{"type":"input_text","text":"a"},{"type":"input_text","text":"b"}]},
                            {"role":"developer","content":"c"},{"role":"user","content":"q"}])"),
      json::parse(
          R"([{"role":"system","content":"ab"},{"role":"system","content":"c"},{"role":"user","content":"q"}])"));
  EXPECT_EQ(rejected_input(R"([{"role":"system","content":[{"type":"input_image","image_url":"https://x/y.png"}]}])"),
            "input[0].content[0].type");
}

TEST(ResponsesRequest, ImagesAudioAndFiles) {
  EXPECT_EQ(
      messages_of(R"([{"role":"user","content":[{"type":"input_image","image_url":"https://x/y.png","detail":"auto"},
                                                      {"type":"input_image","image_url":"https://x/z.png","detail":"original"}]}])"),
      json::parse(
          R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png","detail":"auto"}},
                                                        {"type":"image_url","image_url":{"url":"https://x/z.png"}}]}])"));
  EXPECT_EQ(messages_of(
                R"([{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAA","format":"wav"}}]}])"),
            json::parse(
                R"([{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAA","format":"wav"}}]}])"));
  EXPECT_EQ(
      messages_of(
          R"([{"role":"user","content":[{"type":"input_file","filename":"a.pdf","file_data":"data:application/pdf;base64,JVBE"}]}])"),
      json::parse(
          R"([{"role":"user","content":[{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBE","filename":"a.pdf"}}]}])"));
  EXPECT_EQ(
      rejected_input(
          R"([{"role":"user","content":[{"type":"input_text","text":"x"},{"type":"input_image","file_id":"file-1"}]}])"),
      "input[0].content[1].file_id");
  EXPECT_EQ(rejected_input(R"([{"role":"user","content":[{"type":"input_image","detail":"auto"}]}])"),
            "input[0].content[0].image_url");
  EXPECT_EQ(rejected_input(R"([{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}])"),
            "input[0].content[0].file_id");
  EXPECT_EQ(rejected_input(R"([{"role":"user","content":[{"type":"input_file","file_url":"https://x/a.pdf"}]}])"),
            "input[0].content[0].file_url");
  EXPECT_EQ(rejected_input(R"([{"role":"user","content":[{"type":"input_file"}]}])"), "input[0].content[0].file_data");
  EXPECT_EQ(rejected_input(R"([{"role":"user","content":[{"type":"input_audio","input_audio":"AAA"}]}])"),
            "input[0].content[0].input_audio");
}

TEST(ResponsesRequest, BadMessagesNameTheirField) {
  EXPECT_EQ(rejected_input(R"(["hi"])"), "input[0]");
  EXPECT_EQ(rejected_input(R"([{"role":"tool","content":"x"}])"), "input[0].role");
  EXPECT_EQ(rejected_input(R"([{"type":"message","content":"x"}])"), "input[0].role");
  EXPECT_EQ(rejected_input(R"([{"role":"user"}])"), "input[0].content");
  EXPECT_EQ(rejected_input(R"([{"role":"user","content":7}])"), "input[0].content");
  EXPECT_EQ(rejected_input(R"([{"role":"user","content":[{"type":"text","text":"x"}]}])"), "input[0].content[0].type");
  EXPECT_EQ(rejected_input(R"([{"role":"user","content":[{"type":"input_text"}]}])"), "input[0].content[0].text");
  EXPECT_EQ(rejected_input(R"([{"role":"user","content":["x"]}])"), "input[0].content[0]");
  EXPECT_EQ(rejected_input(R"([{"role":"assistant","content":[{"type":"refusal"}]}])"), "input[0].content[0].refusal");
}

TEST(ResponsesRequest, AssistantHistoryIsTextContent) {
  EXPECT_EQ(messages_of(R"([{"role":"user","content":"q"},
                            {"type":"message","role":"assistant","content":[{"type":"output_text","text":"a","annotations":[]},
                                                                           {"type":"refusal","refusal":"no"}]},
                            {"role":"assistant","content":"b"},{"role":"user","content":"again"}])"),
            json::parse(R"([{"role":"user","content":"q"},{"role":"assistant","content":"anob"},
                            {"role":"user","content":"again"}])"));
  EXPECT_EQ(rejected_input(R"([{"role":"assistant","content":[{"type":"input_image","image_url":"https://x"}]}])"),
            "input[0].content[0].type");
}

TEST(ResponsesRequest, FunctionCallsJoinTheAssistantTurn) {
  EXPECT_EQ(messages_of(R"([{"role":"user","content":"q"},
                            {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
                            {"type":"function_call_output","call_id":"c1","output":"1"},
                            {"type":"function_call","call_id":"c2","name":"g","arguments":"{\"a\":1}","id":"fc_2","status":"completed"},
                            {"type":"function_call_output","call_id":"c2","output":"2"}])"),
            json::parse(R"([{"role":"user","content":"q"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"c1","content":"1"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"c2","type":"function","function":{"name":"g","arguments":"{\"a\":1}"}}]},
              {"role":"tool","tool_call_id":"c2","content":"2"}])"));
}

TEST(ResponsesRequest, OutputsFollowTheirCallWhereverTheyAre) {
  EXPECT_EQ(messages_of(R"([{"role":"user","content":"q"},
                            {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
                            {"type":"function_call","call_id":"c2","name":"g","arguments":"{}"},
                            {"role":"user","content":"and?"},
                            {"type":"function_call_output","call_id":"c2","output":"2"},
                            {"type":"function_call_output","call_id":"c1","output":"1"}])"),
            json::parse(R"([{"role":"user","content":"q"},
              {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}},
                                                                {"id":"c2","type":"function","function":{"name":"g","arguments":"{}"}}]},
              {"role":"tool","tool_call_id":"c2","content":"2"},
              {"role":"tool","tool_call_id":"c1","content":"1"},
              {"role":"user","content":"and?"}])"));
}

TEST(ResponsesRequest, BadFunctionItemsNameTheirField) {
  EXPECT_EQ(rejected_input(R"([{"type":"function_call","name":"f","arguments":"{}"}])"), "input[0].call_id");
  EXPECT_EQ(rejected_input(R"([{"type":"function_call","call_id":"c","arguments":"{}"}])"), "input[0].name");
  EXPECT_EQ(rejected_input(R"([{"type":"function_call","call_id":"c","name":"f","arguments":{}}])"),
            "input[0].arguments");
  EXPECT_EQ(rejected_input(
                R"([{"role":"user","content":"q"},{"type":"function_call_output","call_id":"nope","output":"1"}])"),
            "input[1].call_id");
  EXPECT_EQ(rejected_input(R"([{"type":"function_call_output","output":"1"}])"), "input[0].call_id");
  EXPECT_EQ(rejected_input(R"([{"type":"function_call","call_id":"c","name":"f","arguments":"{}"},
                               {"type":"function_call_output","call_id":"c","output":[{"type":"input_image","image_url":"https://x"}]}])"),
            "input[1].output[0]");
  EXPECT_EQ(rejected_input(R"([{"type":"function_call","call_id":"c","name":"f","arguments":"{}"},
                               {"type":"function_call_output","call_id":"c","output":7}])"),
            "input[1].output");
}

TEST(ResponsesRequest, StatefulAndHostedItemsAreRefused) {
  EXPECT_EQ(rejected_input(R"([{"type":"item_reference","id":"msg_1"}])"), "input[0]");
  EXPECT_EQ(
      rejected_input(R"([{"role":"user","content":"q"},{"type":"web_search_call","id":"ws_1","status":"completed"}])"),
      "input[1].type");
  EXPECT_EQ(rejected_input(R"([{"id":"x"}])"), "input[0].type");
}

TEST(ResponsesRequest, StatefulFieldsAreRefusedByName) {
  EXPECT_EQ(rejected_with(R"("previous_response_id":"resp_1")"), "previous_response_id");
  EXPECT_EQ(rejected_with(R"("conversation":"conv_1")"), "conversation");
  EXPECT_EQ(rejected_with(R"("prompt":{"id":"pmpt_1"})"), "prompt");
  EXPECT_EQ(rejected_with(R"("background":true)"), "background");
  EXPECT_EQ(chat_of(R"("input":"q","previous_response_id":"")").at("messages").as_array().size(), 1u);
}

TEST(ResponsesRequest, SamplingFields) {
  EXPECT_EQ(
      chat_of(
          R"("input":"q","max_output_tokens":16,"temperature":0,"top_p":1,"user":"u","reasoning":{"effort":"high"})"),
      json::parse(R"({"model":"m","messages":[{"role":"user","content":"q"}],"temperature":0,"top_p":1,
                            "max_tokens":16,"user":"u","reasoning_effort":"high"})"));
  EXPECT_EQ(rejected_with(R"("max_output_tokens":0)"), "max_output_tokens");
  EXPECT_EQ(rejected_with(R"("max_output_tokens":-3)"), "max_output_tokens");
  EXPECT_EQ(rejected_with(R"("max_output_tokens":"16")"), "max_output_tokens");
  EXPECT_EQ(rejected_with(R"("max_output_tokens":1.5)"), "max_output_tokens");
  EXPECT_EQ(rejected_with(R"("temperature":"hot")"), "temperature");
  EXPECT_EQ(rejected_with(R"("top_p":[1])"), "top_p");
  EXPECT_EQ(rejected_with(R"("user":1)"), "user");
  EXPECT_EQ(rejected_with(R"("reasoning":"high")"), "reasoning");
  EXPECT_EQ(rejected_with(R"("reasoning":{"effort":1})"), "reasoning.effort");
  EXPECT_EQ(rejected_with(R"("stream":"yes")"), "stream");
  EXPECT_EQ(rejected_with(R"("store":"yes")"), "store");
  EXPECT_EQ(rejected_with(R"("metadata":[1])"), "metadata");
}

TEST(ResponsesRequest, AcceptedFieldsThatAreNotForwarded) {
  EXPECT_EQ(chat_of(R"("input":"q","store":true,"metadata":{"a":"b"},"include":["x"],"truncation":"auto",
                       "service_tier":"flex","prompt_cache_key":"k","safety_identifier":"s","top_logprobs":2,
                       "text":{"verbosity":"low"},"reasoning":{"summary":"auto"},"stream_options":{"include_obfuscation":false},
                       "max_tool_calls":3,"some_future_field":1)"),
            json::parse(R"({"model":"m","messages":[{"role":"user","content":"q"}]})"));
}

TEST(ResponsesRequest, TextFormat) {
  EXPECT_FALSE(chat_of(R"("input":"q","text":{"format":{"type":"text"}})").as_object().contains("response_format"));
  EXPECT_EQ(chat_of(R"("input":"q","text":{"format":{"type":"json_object"}})").at("response_format"),
            json::parse(R"({"type":"json_object"})"));
  EXPECT_EQ(
      chat_of(
          R"("input":"q","text":{"format":{"type":"json_schema","name":"n","description":"d","schema":{"type":"object"}}})")
          .at("response_format"),
      json::parse(R"({"type":"json_schema","json_schema":{"name":"n","schema":{"type":"object"},"description":"d"}})"));
  EXPECT_EQ(rejected_with(R"("text":"json")"), "text");
  EXPECT_EQ(rejected_with(R"("text":{"format":"json"})"), "text.format");
  EXPECT_EQ(rejected_with(R"("text":{"format":{"type":"yaml"}})"), "text.format.type");
  EXPECT_EQ(rejected_with(R"("text":{"format":{"type":"json_schema","schema":{}}})"), "text.format.name");
  EXPECT_EQ(rejected_with(R"("text":{"format":{"type":"json_schema","name":"n"}})"), "text.format.schema");
  EXPECT_EQ(rejected_with(R"("text":{"format":{"type":"json_schema","name":"n","schema":{},"strict":"yes"}})"),
            "text.format.strict");
  EXPECT_EQ(rejected_with(R"("text":{"format":{"type":"json_schema","name":"n","schema":{},"description":1}})"),
            "text.format.description");
}

TEST(ResponsesRequest, FunctionToolsAndToolChoice) {
  const std::string tools =
      R"("tools":[{"type":"function","name":"f","parameters":{"type":"object"}},{"type":"function","name":"g","description":"G"}])";
  auto chat = chat_of(R"("input":"q",)" + tools +
                      R"(,"tool_choice":{"type":"function","name":"g"},"parallel_tool_calls":true)");
  EXPECT_EQ(chat.at("tools"),
            json::parse(R"([{"type":"function","function":{"name":"f","parameters":{"type":"object"}}},
                                              {"type":"function","function":{"name":"g","description":"G"}}])"));
  EXPECT_EQ(chat.at("tool_choice"), json::parse(R"({"type":"function","function":{"name":"g"}})"));
  EXPECT_EQ(chat.at("parallel_tool_calls"), json::value(true));
  for (const char* choice : {"none", "auto", "required"})
    EXPECT_EQ(chat_of(R"("input":"q",)" + tools + R"(,"tool_choice":")" + choice + "\"").at("tool_choice"),
              json::value(choice));
}

TEST(ResponsesRequest, AllowedToolsKeepOnlyTheAllowed) {
  auto chat = chat_of(R"("input":"q","tools":[{"type":"function","name":"f"},{"type":"function","name":"g"}],
                         "tool_choice":{"type":"allowed_tools","mode":"required","tools":[{"type":"function","name":"g"}]})");
  EXPECT_EQ(chat.at("tools"), json::parse(R"([{"type":"function","function":{"name":"g"}}])"));
  EXPECT_EQ(chat.at("tool_choice"), json::value("required"));
  EXPECT_EQ(
      rejected_with(
          R"("tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"allowed_tools","mode":"any","tools":[]})"),
      "tool_choice.mode");
  EXPECT_EQ(
      rejected_with(R"("tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"allowed_tools","mode":"auto"})"),
      "tool_choice.tools");
  EXPECT_EQ(rejected_with(R"("tools":[{"type":"function","name":"f"}],
                             "tool_choice":{"type":"allowed_tools","mode":"auto","tools":[{"type":"function","name":"f"},{"type":"web_search"}]})"),
            "tool_choice.tools[1].type");
}

TEST(ResponsesRequest, ToolChoiceWithoutToolsIsNotSent) {
  EXPECT_EQ(chat_of(R"("input":"q","tools":[],"tool_choice":"required","parallel_tool_calls":false)"),
            json::parse(R"({"model":"m","messages":[{"role":"user","content":"q"}]})"));
}

TEST(ResponsesRequest, BuiltInToolsAndBadToolsNameTheirField) {
  EXPECT_EQ(rejected_with(R"("tools":[{"type":"function","name":"f"},{"type":"web_search"}])"), "tools[1].type");
  EXPECT_EQ(rejected_with(R"("tools":[{"type":"file_search","vector_store_ids":["v"]}])"), "tools[0].type");
  EXPECT_EQ(rejected_with(R"("tools":[{"type":"mcp","server_label":"x"}])"), "tools[0].type");
  EXPECT_EQ(rejected_with(R"("tools":[{"name":"f"}])"), "tools[0].type");
  EXPECT_EQ(rejected_with(R"("tools":[{"type":"function"}])"), "tools[0].name");
  EXPECT_EQ(rejected_with(R"("tools":[{"type":"function","name":"f","parameters":"{}"}])"), "tools[0].parameters");
  EXPECT_EQ(rejected_with(R"("tools":[{"type":"function","name":"f","strict":1}])"), "tools[0].strict");
  EXPECT_EQ(rejected_with(R"("tools":[{"type":"function","name":"f","description":2}])"), "tools[0].description");
  EXPECT_EQ(rejected_with(R"("tools":["f"])"), "tools[0]");
  EXPECT_EQ(rejected_with(R"("tools":{"type":"function"})"), "tools");
  EXPECT_EQ(rejected_with(R"("tools":[{"type":"function","name":"f"}],"tool_choice":"any")"), "tool_choice");
  EXPECT_EQ(rejected_with(R"("tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"web_search_preview"})"),
            "tool_choice.type");
  EXPECT_EQ(rejected_with(R"("tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"function"})"),
            "tool_choice.name");
  EXPECT_EQ(rejected_with(R"("tools":[{"type":"function","name":"f"}],"tool_choice":3)"), "tool_choice");
  EXPECT_EQ(rejected_with(R"("tools":[{"type":"function","name":"f"}],"parallel_tool_calls":"no")"),
            "parallel_tool_calls");
}

TEST(ResponsesRequest, PeekTakesModelStreamAndRequiresInput) {
  auto peek = [](std::string_view body) { return rs::codec().peek(json::parse(body), RouteParams{}); };
  auto p = peek(
      R"({"model":"m","input":"q","stream":true,"previous_response_id":"resp_1","tools":[{"type":"web_search"}]})");
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->model, "m");
  EXPECT_TRUE(p->stream);
  EXPECT_TRUE(p->body.is_null());
  EXPECT_TRUE(peek(R"({"model":"m","previous_response_id":"resp_1"})").ok());
  EXPECT_TRUE(peek(R"({"model":"m","prompt":{"id":"pmpt_1"}})").ok());
  auto missing = peek(R"({"model":"m"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().param, "input");
  EXPECT_EQ(peek(R"({"input":"q"})").error().param, "model");
  EXPECT_EQ(peek(R"({"model":"m","input":"q","stream":1})").error().param, "stream");
}

// ---- answer encode ----

TEST(ResponsesAnswer, FixtureWithTextAndToolCalls) {
  auto chat = fixture("answer_tools.json").as_object();
  EXPECT_EQ(encoded(chat), fixture("answer_tools.response.json")) << json::serialize(encoded(chat));
}

TEST(ResponsesAnswer, EchoesTheRequestsSettings) {
  auto request = json::parse(R"({"model":"m","input":"q","instructions":"be brief","max_output_tokens":50,
    "temperature":0.5,"top_p":0.8,"parallel_tool_calls":false,"tool_choice":{"type":"function","name":"f"},
    "tools":[{"type":"function","name":"f","parameters":{"type":"object"}}],"user":"u","truncation":"auto",
    "text":{"format":{"type":"json_object"}},"reasoning":{"effort":"low","summary":"auto"},"metadata":{"k":"v"}})");
  auto r = encoded(answer(R"({"choices":[{"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]})"),
                   &request)
               .as_object();
  EXPECT_EQ(r.at("instructions"), json::value("be brief"));
  EXPECT_EQ(r.at("max_output_tokens"), json::value(50));
  EXPECT_EQ(r.at("temperature"), json::value(0.5));
  EXPECT_EQ(r.at("top_p"), json::value(0.8));
  EXPECT_EQ(r.at("parallel_tool_calls"), json::value(false));
  EXPECT_EQ(r.at("tool_choice"), json::parse(R"({"type":"function","name":"f"})"));
  EXPECT_EQ(r.at("tools"), request.at("tools"));
  EXPECT_EQ(r.at("user"), json::value("u"));
  EXPECT_EQ(r.at("truncation"), json::value("auto"));
  EXPECT_EQ(r.at("text"), json::parse(R"({"format":{"type":"json_object"}})"));
  EXPECT_EQ(r.at("reasoning"), json::parse(R"({"effort":"low","summary":"auto"})"));
  EXPECT_EQ(r.at("metadata"), json::parse(R"({"k":"v"})"));
  EXPECT_EQ(r.at("store"), json::value(false));
  EXPECT_EQ(r.at("created_at"), json::value(1718000123));  // no "created" upstream: now
}

TEST(ResponsesAnswer, LengthIsIncompleteWithMaxOutputTokens) {
  auto r =
      encoded(
          answer(
              R"({"created":5,"choices":[{"message":{"role":"assistant","content":"Hello, wor"},"finish_reason":"length"}],
                              "usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}})"))
          .as_object();
  EXPECT_EQ(r.at("status"), json::value("incomplete"));
  EXPECT_EQ(r.at("incomplete_details"), json::parse(R"({"reason":"max_output_tokens"})"));
  EXPECT_EQ(r.at("output").at(0).at("status"), json::value("incomplete"));
  EXPECT_EQ(r.at("output").at(0).at("content").at(0).at("text"), json::value("Hello, wor"));
  EXPECT_EQ(r.at("usage"),
            json::parse(R"({"input_tokens":3,"input_tokens_details":{"cached_tokens":0},"output_tokens":4,
                                            "output_tokens_details":{"reasoning_tokens":0},"total_tokens":7})"));
  EXPECT_EQ(r.at("created_at"), json::value(5));
}

TEST(ResponsesAnswer, ContentFilterIsIncompleteAndRefusalsArePartsOfTheirOwn) {
  auto r = encoded(answer(R"({"choices":[{"message":{"role":"assistant","content":null,"refusal":"I can't"},
                                         "finish_reason":"content_filter"}]})"))
               .as_object();
  EXPECT_EQ(r.at("status"), json::value("incomplete"));
  EXPECT_EQ(r.at("incomplete_details"), json::parse(R"({"reason":"content_filter"})"));
  EXPECT_EQ(r.at("output").at(0).at("content"), json::parse(R"([{"type":"refusal","refusal":"I can't"}])"));
}

TEST(ResponsesAnswer, OddAnswers) {
  // No choices at all, or empty content: a completed response with no output; no usage: zeros.
  auto empty = encoded(answer(R"({"id":"x"})")).as_object();
  EXPECT_EQ(empty.at("status"), json::value("completed"));
  EXPECT_EQ(empty.at("output"), json::array{});
  EXPECT_EQ(empty.at("usage").at("total_tokens"), json::value(0));
  auto blank = encoded(answer(R"({"choices":[{"message":{"role":"assistant","content":""},"finish_reason":"stop"}]})"));
  EXPECT_EQ(blank.at("output"), json::array{});
  // Array content (some hosts), the legacy function_call, and unknown finish reasons.
  auto parts = encoded(answer(
      R"({"choices":[{"message":{"role":"assistant","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}],
                                  "function_call":{"name":"f","arguments":"{}"}},"finish_reason":"weird"}]})"));
  EXPECT_EQ(parts.at("status"), json::value("completed"));
  EXPECT_EQ(parts.at("output").at(0).at("content").at(0).at("text"), json::value("ab"));
  EXPECT_EQ(parts.at("output").at(1), json::parse(R"({"id":"fc_req1_0","type":"function_call","status":"completed",
                                                      "arguments":"{}","call_id":"call_req1_0","name":"f"})"));
}

TEST(ResponsesAnswer, IdsComeFromTheRequestId) {
  auto chat = answer(R"({"choices":[{"message":{"role":"assistant","content":"x"},"finish_reason":"stop"}]})");
  EXPECT_EQ(encoded(chat, nullptr, "req_0a1b2c").at("id"), json::value("resp_req_0a1b2c"));
  EXPECT_EQ(encoded(chat, nullptr, "a-b/c d\"e").at("id"), json::value("resp_abcde"));
  EXPECT_EQ(encoded(chat, nullptr, "--").at("output").at(0).at("id"), json::value("msg_anygpt"));
}

TEST(ResponsesProtocol, OpenAIShapeUnderItsOwnName) {
  const auto& p = rs::protocol();
  EXPECT_EQ(p.name, "openai-responses");
  EXPECT_TRUE(p.keys.bearer);
  EXPECT_EQ(p.keys.headers[0], "x-api-key");
  auto body =
      json::parse(p.error_body(core::make_error(ErrorKind::kInvalidRequest, "bad", "input", "invalid_request")));
  EXPECT_EQ(
      body,
      json::parse(
          R"({"error":{"message":"bad","type":"invalid_request_error","param":"input","code":"invalid_request"}})"));
  EXPECT_EQ(p.error_status(core::make_error(ErrorKind::kNotFound, "x")), 404u);
  EXPECT_FALSE(rs::codec().relays_answer());
  EXPECT_EQ(rs::codec().content_type(), "application/json");
}
