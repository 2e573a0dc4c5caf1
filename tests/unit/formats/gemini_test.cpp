#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "formats/common/chunks.hpp"
#include "formats/gemini/gemini.hpp"

using namespace anygpt;
using namespace anygpt::formats;
namespace json = boost::json;

namespace {

json::value fixture(const std::string& name) {
  std::ifstream in(std::string(ANYGPT_FIXTURES_DIR) + "/gemini/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

core::Result<Canonical> decode(std::string_view body, std::string_view model = "models/gemini-2.5-flash",
                               bool stream = false) {
  return gemini::generate_codec().decode(json::parse(body), RouteParams{model, stream});
}

// The canonical body of a request that must decode.
json::object canonical(std::string_view body) {
  auto r = decode(body);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r->body.as_object() : json::object{};
}

json::value messages(std::string_view body) {
  return canonical(body)["messages"];
}

// The events of a Gemini SSE stream: every event is "data: <json>\r\n\r\n".
std::vector<json::value> events(const std::string& sse) {
  std::vector<json::value> out;
  std::size_t at = 0;
  while (at < sse.size()) {
    auto end = sse.find("\r\n\r\n", at);
    EXPECT_NE(end, std::string::npos) << "unterminated event: " << sse.substr(at);
    if (end == std::string::npos) break;
    auto event = sse.substr(at, end - at);
    EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
    out.push_back(json::parse(event.substr(6)));
    at = end + 4;
  }
  return out;
}

const AnswerContext kCtx{"gemini-2.5-flash", "req-42", false};
const Moment kNow{};

json::object chunk(std::string_view text) {
  return json::parse(text).as_object();
}

}  // namespace

// --- protocol, errors, names -------------------------------------------------------------------------

TEST(GeminiProtocol, KeySourcesAndFlags) {
  const auto& p = gemini::protocol();
  EXPECT_EQ(p.name, "gemini");
  EXPECT_TRUE(p.keys.bearer);
  EXPECT_EQ(p.keys.headers[0], "x-goog-api-key");
  EXPECT_EQ(p.keys.headers[1], "");
  EXPECT_EQ(p.keys.query_param, "key");
  EXPECT_FALSE(p.relays_upstream_errors);
  EXPECT_EQ(p.alternate_model, nullptr);
}

TEST(GeminiProtocol, ErrorBodyCarriesHttpCodeAndRpcStatus) {
  struct Case {
    core::ErrorKind kind;
    unsigned code;
    const char* status;
  };
  const Case cases[] = {
      {core::ErrorKind::kInvalidRequest, 400, "INVALID_ARGUMENT"},
      {core::ErrorKind::kUnauthorized, 401, "UNAUTHENTICATED"},
      {core::ErrorKind::kForbidden, 403, "PERMISSION_DENIED"},
      {core::ErrorKind::kNotFound, 404, "NOT_FOUND"},
      {core::ErrorKind::kMethodNotAllowed, 405, "INVALID_ARGUMENT"},
      {core::ErrorKind::kConflict, 409, "INVALID_ARGUMENT"},
      {core::ErrorKind::kPayloadTooLarge, 413, "INVALID_ARGUMENT"},
      {core::ErrorKind::kQuotaExceeded, 429, "RESOURCE_EXHAUSTED"},
      {core::ErrorKind::kRateLimited, 429, "RESOURCE_EXHAUSTED"},
      {core::ErrorKind::kInternal, 500, "INTERNAL"},
      {core::ErrorKind::kUpstreamError, 502, "UNAVAILABLE"},
      {core::ErrorKind::kUpstreamUnavailable, 503, "UNAVAILABLE"},
      {core::ErrorKind::kUpstreamTimeout, 504, "DEADLINE_EXCEEDED"},
  };
  const auto& p = gemini::protocol();
  for (const auto& c : cases) {
    auto error = core::make_error(c.kind, "went \"wrong\"", "contents");
    EXPECT_EQ(p.error_status(error), c.code);
    auto body = json::parse(p.error_body(error));
    EXPECT_EQ(body, json::parse(R"({"error":{"code":)" + std::to_string(c.code) +
                                R"(,"message":"went \"wrong\"","status":")" + c.status + R"("}})"));
  }
}

TEST(GeminiProtocol, StripsModelsPrefix) {
  EXPECT_EQ(gemini::strip_model_prefix("models/gemini-2.5-flash"), "gemini-2.5-flash");
  EXPECT_EQ(gemini::strip_model_prefix("gemini-2.5-flash"), "gemini-2.5-flash");
  EXPECT_EQ(gemini::strip_model_prefix("models/"), "");
  EXPECT_EQ(gemini::strip_model_prefix("tunedModels/x"), "tunedModels/x");
}

// --- request decode ----------------------------------------------------------------------------------

TEST(GeminiDecode, FullRequestMatchesFixture) {
  auto r =
      gemini::generate_codec().decode(fixture("generate_request.json"), RouteParams{"models/gemini-2.5-flash", false});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->op, Operation::kChat);
  EXPECT_FALSE(r->same_bytes);
  EXPECT_EQ(r->model, "gemini-2.5-flash");
  EXPECT_FALSE(r->stream);
  EXPECT_EQ(r->body, fixture("generate_request.canonical.json")) << json::serialize(r->body);
}

TEST(GeminiDecode, StreamRouteAsksForUsageChunk) {
  auto r = decode(R"({"contents":[{"parts":[{"text":"hi"}]}]})", "gemini-x", true);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->stream);
  EXPECT_EQ(r->model, "gemini-x");
  EXPECT_EQ(r->body, json::parse(R"({"model":"gemini-x","messages":[{"role":"user","content":"hi"}],
                                    "stream":true,"stream_options":{"include_usage":true}})"));
}

TEST(GeminiDecode, MissingRoleIsUserAndFunctionRoleIsUserSide) {
  auto m = messages(R"({"contents":[{"parts":[{"text":"a"}]},{"role":"model","parts":[{"functionCall":{"name":"f"}}]},
                        {"role":"function","parts":[{"functionResponse":{"name":"f","response":{"ok":true}}}]}]})");
  EXPECT_EQ(m, json::parse(R"([{"role":"user","content":"a"},
    {"role":"assistant","content":null,"tool_calls":[{"id":"call_1_0","type":"function","function":{"name":"f","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"call_1_0","content":"{\"ok\":true}"}])"));
}

TEST(GeminiDecode, ConsecutiveModelContentsJoinIntoOneAssistantTurn) {
  // The SDK's chat records a streamed answer as one model content per chunk, the last one {"text":""}.
  auto m = messages(R"({"contents":[{"role":"user","parts":[{"text":"hi"}]},
    {"role":"model","parts":[{"text":"Hel"}]},{"role":"model","parts":[{"text":"lo "}]},
    {"role":"model","parts":[{"text":"there","thoughtSignature":"x"}]},{"role":"model","parts":[{"text":""}]},
    {"role":"user","parts":[{"text":"again"}]}]})");
  EXPECT_EQ(m, json::parse(R"([{"role":"user","content":"hi"},{"role":"assistant","content":"Hello there"},
                               {"role":"user","content":"again"}])"));
}

TEST(GeminiDecode, UserTextPartsJoinWithNewlineAndThoughtsAndEmptyTextAreDropped) {
  auto m = messages(R"({"contents":[{"parts":[{"text":"Describe"},{"text":""},{"text":"this","thought":false},
    {"text":"secret plan","thought":true}]},{"role":"model","parts":[{"text":"thinking...","thought":true},{"text":"Ok"}]}]})");
  EXPECT_EQ(m, json::parse(R"([{"role":"user","content":"Describe\nthis"},{"role":"assistant","content":"Ok"}])"));
}

TEST(GeminiDecode, ModelTurnOfOnlyThoughtsIsLeftOut) {
  auto m = messages(R"({"contents":[{"parts":[{"text":"a"}]},{"role":"model","parts":[{"text":"hmm","thought":true}]},
                                    {"parts":[{"text":"b"}]}]})");
  EXPECT_EQ(m, json::parse(R"([{"role":"user","content":"a"},{"role":"user","content":"b"}])"));
}

TEST(GeminiDecode, MediaParts) {
  auto m = messages(R"({"contents":[{"parts":[
    {"inlineData":{"mimeType":"audio/wav","data":"UklGRg=="}},
    {"inlineData":{"mimeType":"audio/mpeg","data":"SUQz"}},
    {"inlineData":{"mimeType":"Audio/X-FLAC","data":"ZkxhQw=="}},
    {"inlineData":{"mimeType":"image/jpeg; q=1","data":"/9j/"}},
    {"fileData":{"fileUri":"https://example.com/cat.png","mimeType":"image/png"}},
    {"fileData":{"fileUri":"https://example.com/dog"}},
    {"text":"what is this?"}]}]})");
  EXPECT_EQ(m, json::parse(R"([{"role":"user","content":[
    {"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}},
    {"type":"input_audio","input_audio":{"data":"SUQz","format":"mp3"}},
    {"type":"input_audio","input_audio":{"data":"ZkxhQw==","format":"flac"}},
    {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/"}},
    {"type":"image_url","image_url":{"url":"https://example.com/cat.png"}},
    {"type":"image_url","image_url":{"url":"https://example.com/dog"}},
    {"type":"text","text":"what is this?"}]}])"));
}

TEST(GeminiDecode, ToolResultsComeBeforeUserTextAndPairByPositionOrId) {
  auto m = messages(R"({"contents":[{"parts":[{"text":"go"}]},
    {"role":"model","parts":[{"functionCall":{"name":"f","args":{"n":1}}},{"functionCall":{"name":"f","args":{"n":2}}},
                             {"functionCall":{"id":"x9","name":"g"}}]},
    {"role":"user","parts":[{"text":"here:"},{"functionResponse":{"id":"x9","name":"g","response":{"r":"g"}}},
                            {"functionResponse":{"name":"f","response":{"r":1}}},
                            {"functionResponse":{"name":"f","response":{"r":2}}}]}]})");
  ASSERT_TRUE(m.is_array());
  ASSERT_EQ(m.as_array().size(), 6u);
  EXPECT_EQ(m.as_array()[2], json::parse(R"({"role":"tool","tool_call_id":"x9","content":"{\"r\":\"g\"}"})"));
  EXPECT_EQ(m.as_array()[3], json::parse(R"({"role":"tool","tool_call_id":"call_1_0","content":"{\"r\":1}"})"));
  EXPECT_EQ(m.as_array()[4], json::parse(R"({"role":"tool","tool_call_id":"call_1_1","content":"{\"r\":2}"})"));
  EXPECT_EQ(m.as_array()[5], json::parse(R"({"role":"user","content":"here:"})"));
}

TEST(GeminiDecode, GeneratedCallIdsAreUniqueAcrossTurns) {
  auto m = messages(R"({"contents":[{"parts":[{"text":"go"}]},
    {"role":"model","parts":[{"functionCall":{"name":"f"}}]},{"parts":[{"functionResponse":{"name":"f"}}]},
    {"role":"model","parts":[{"functionCall":{"name":"f"}}]},{"parts":[{"functionResponse":{"name":"f"}}]}]})");
  ASSERT_EQ(m.as_array().size(), 5u);
  EXPECT_EQ(m.as_array()[1].at("tool_calls").at(0).at("id"), "call_1_0");
  EXPECT_EQ(m.as_array()[2], json::parse(R"({"role":"tool","tool_call_id":"call_1_0","content":"{}"})"));
  EXPECT_EQ(m.as_array()[3].at("tool_calls").at(0).at("id"), "call_3_0");
  EXPECT_EQ(m.as_array()[4].at("tool_call_id"), "call_3_0");
}

TEST(GeminiDecode, SystemInstructionAsPlainString) {
  auto m = messages(R"({"systemInstruction":"Be brief.","contents":[{"parts":[{"text":"hi"}]}]})");
  EXPECT_EQ(m, json::parse(R"([{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}])"));
}

TEST(GeminiDecode, ResponseFormats) {
  auto format = [](std::string_view config) {
    auto body = canonical(std::string(R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":)") +
                          std::string(config) + "}");
    const auto* f = body.if_contains("response_format");
    return f ? *f : json::value();
  };
  EXPECT_EQ(format(R"({"responseMimeType":"application/json"})"), json::parse(R"({"type":"json_object"})"));
  EXPECT_TRUE(format(R"({"responseMimeType":"text/plain"})").is_null());
  EXPECT_TRUE(format(R"({})").is_null());
  EXPECT_EQ(
      format(R"({"responseMimeType":"application/json","responseSchema":{"type":"ARRAY","items":{"type":"INTEGER"}}})"),
      json::parse(
          R"({"type":"json_schema","json_schema":{"name":"response","schema":{"type":"array","items":{"type":"integer"}}}})"));
  EXPECT_EQ(format(R"({"responseJsonSchema":{"type":"object","additionalProperties":false,"$defs":{}}})"),
            json::parse(R"({"type":"json_schema","json_schema":{"name":"response",
                             "schema":{"type":"object","additionalProperties":false,"$defs":{}}}})"));
}

TEST(GeminiDecode, SchemaConversionRecursesEverywhere) {
  auto body = canonical(R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f",
    "parameters":{"type":"OBJECT","nullable":false,"properties":{
      "tags":{"type":"ARRAY","minItems":"1","maxItems":"5","items":{"type":"STRING","format":"enum","enum":["a","b"]}},
      "when":{"anyOf":[{"type":"STRING","format":"date-time"},{"type":"NUMBER"}],"nullable":true},
      "any":{"type":"TYPE_UNSPECIFIED","description":"d"},
      "both":{"type":["STRING","NULL"],"nullable":true},
      "nested":{"type":"OBJECT","nullable":true,"properties":{"deep":{"type":"BOOLEAN","nullable":true}},
                "propertyOrdering":["deep"],"required":["deep"],"minProperties":"x1"}}}}]}]})");
  EXPECT_EQ(body["tools"],
            json::parse(R"([{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{
      "tags":{"type":"array","minItems":1,"maxItems":5,"items":{"type":"string","format":"enum","enum":["a","b"]}},
      "when":{"anyOf":[{"type":"string","format":"date-time"},{"type":"number"},{"type":"null"}]},
      "any":{"description":"d"},
      "both":{"type":["string","null"]},
      "nested":{"type":["object","null"],"properties":{"deep":{"type":["boolean","null"]}},"required":["deep"],
                "minProperties":"x1"}}}}}])"))
      << json::serialize(body["tools"]);
}

TEST(GeminiDecode, FunctionCallingModes) {
  auto with = [](std::string_view config) {
    return canonical(std::string(R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[
      {"name":"a"},{"name":"b"},{"name":"c"}]}],"toolConfig":{"functionCallingConfig":)") +
                     std::string(config) + "}}");
  };
  auto names = [](const json::object& body) {
    std::vector<std::string> out;
    for (const auto& t : body.at("tools").as_array()) out.emplace_back(t.at("function").at("name").as_string());
    return out;
  };
  const std::vector<std::string> all{"a", "b", "c"};
  EXPECT_EQ(with(R"({"mode":"AUTO"})")["tool_choice"], "auto");
  EXPECT_EQ(with(R"({"mode":"NONE"})")["tool_choice"], "none");
  EXPECT_EQ(with(R"({"mode":"ANY"})")["tool_choice"], "required");
  EXPECT_EQ(names(with(R"({"mode":"ANY"})")), all);
  EXPECT_FALSE(with(R"({})").contains("tool_choice"));
  auto one = with(R"({"mode":"ANY","allowedFunctionNames":["b"]})");
  EXPECT_EQ(one["tool_choice"], json::parse(R"({"type":"function","function":{"name":"b"}})"));
  EXPECT_EQ(names(one), std::vector<std::string>{"b"});
  auto two = with(R"({"mode":"ANY","allowedFunctionNames":["c","a"]})");
  EXPECT_EQ(two["tool_choice"], "required");
  EXPECT_EQ(names(two), (std::vector<std::string>{"a", "c"}));
  auto validated = with(R"({"mode":"VALIDATED","allowedFunctionNames":["a"]})");
  EXPECT_EQ(validated["tool_choice"], "auto");
  EXPECT_EQ(names(validated), std::vector<std::string>{"a"});
  EXPECT_EQ(names(with(R"({"mode":"AUTO","allowedFunctionNames":["a"]})")), all);
}

TEST(GeminiDecode, ToolConfigWithoutToolsSendsNoToolChoice) {
  auto body =
      canonical(R"({"contents":[{"parts":[{"text":"x"}]}],"toolConfig":{"functionCallingConfig":{"mode":"AUTO"}}})");
  EXPECT_FALSE(body.contains("tools"));
  EXPECT_FALSE(body.contains("tool_choice"));
}

TEST(GeminiDecode, BadInputIsInvalidRequestNamingTheField) {
  struct Case {
    const char* body;
    const char* param;
  };
  const Case cases[] = {
      {R"([1])", ""},
      {R"({})", "contents"},
      {R"({"contents":[]})", "contents"},
      {R"({"contents":{"parts":[]}})", "contents"},
      {R"({"contents":["hi"]})", "contents[0]"},
      {R"({"contents":[{"role":"assistant","parts":[{"text":"x"}]}]})", "contents[0].role"},
      {R"({"contents":[{"role":7,"parts":[{"text":"x"}]}]})", "contents[0].role"},
      {R"({"contents":[{"role":"user"}]})", "contents[0].parts"},
      {R"({"contents":[{"parts":["x"]}]})", "contents[0].parts[0]"},
      {R"({"contents":[{"parts":[{"text":"a"},{"executableCode":{"language":"PYTHON","code":"1"}}]}]})",
       "contents[0].parts[1]"},
      {R"({"contents":[{"parts":[{"videoMetadata":{"startOffset":"1s"}}]}]})", "contents[0].parts[0]"},
      {R"({"contents":[{"parts":[{}]}]})", "contents[0].parts[0]"},
      {R"({"contents":[{"parts":[{"text":5}]}]})", "contents[0].parts[0].text"},
      {R"({"contents":[{"parts":[{"inlineData":{"mimeType":"application/pdf","data":"JVBE"}}]}]})",
       "contents[0].parts[0].inlineData.mimeType"},
      {R"({"contents":[{"parts":[{"inlineData":{"mimeType":"image/png"}}]}]})", "contents[0].parts[0].inlineData.data"},
      {R"({"contents":[{"parts":[{"inlineData":{"data":"AA"}}]}]})", "contents[0].parts[0].inlineData.mimeType"},
      {R"({"contents":[{"parts":[{"inlineData":"AA"}]}]})", "contents[0].parts[0].inlineData"},
      {R"({"contents":[{"parts":[{"fileData":{"fileUri":"gs://b/v.mp4","mimeType":"video/mp4"}}]}]})",
       "contents[0].parts[0].fileData.mimeType"},
      {R"({"contents":[{"parts":[{"fileData":{"mimeType":"image/png"}}]}]})", "contents[0].parts[0].fileData.fileUri"},
      {R"({"contents":[{"parts":[{"functionCall":{"name":"f"}}]}]})", "contents[0].parts[0]"},
      {R"({"contents":[{"role":"model","parts":[{"functionResponse":{"name":"f"}}]}]})", "contents[0].parts[0]"},
      {R"({"contents":[{"role":"model","parts":[{"inlineData":{"mimeType":"image/png","data":"AA"}}]}]})",
       "contents[0].parts[0]"},
      {R"({"contents":[{"role":"model","parts":[{"functionCall":{"args":{}}}]}]})",
       "contents[0].parts[0].functionCall.name"},
      {R"({"contents":[{"role":"model","parts":[{"functionCall":"f"}]}]})", "contents[0].parts[0].functionCall"},
      {R"({"contents":[{"parts":[{"functionResponse":{"name":"f","response":{}}}]}]})",
       "contents[0].parts[0].functionResponse"},
      {R"({"contents":[{"role":"model","parts":[{"functionCall":{"name":"f"}}]},
                       {"parts":[{"functionResponse":{"name":"f"}},{"functionResponse":{"name":"f"}}]}]})",
       "contents[1].parts[1].functionResponse"},
      {R"({"contents":[{"role":"model","parts":[{"functionCall":{"id":"a","name":"f"}}]},
                       {"parts":[{"functionResponse":{"id":"b","name":"f"}}]}]})",
       "contents[1].parts[0].functionResponse.id"},
      {R"({"contents":[{"parts":[{"text":"x","thought":true}]}]})", "contents"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"systemInstruction":5})", "systemInstruction"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"systemInstruction":{"parts":[{"inlineData":{}}]}})",
       "systemInstruction.parts[0]"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":[]})", "generationConfig"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"temperature":"hot"}})",
       "generationConfig.temperature"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"maxOutputTokens":1.5}})",
       "generationConfig.maxOutputTokens"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"stopSequences":"END"}})",
       "generationConfig.stopSequences"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"stopSequences":["a",1]}})",
       "generationConfig.stopSequences"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"text/x.enum"}})",
       "generationConfig.responseMimeType"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":3}})",
       "generationConfig.responseMimeType"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"text/plain","responseSchema":{"type":"STRING"}}})",
       "generationConfig.responseMimeType"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseJsonSchema":true}})",
       "generationConfig.responseJsonSchema"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseSchema":{"type":"OBJECT","properties":{"a":1}}}})",
       "generationConfig.responseSchema.properties.a"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"tools":{}})", "tools"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[1]})", "tools[0]"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{"googleSearch":{}}]})", "tools[0]"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[],"codeExecution":{}}]})",
       "tools[0]"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{}]})", "tools[0].functionDeclarations"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"description":"d"}]}]})",
       "tools[0].functionDeclarations[0].name"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":"x"}]}]})",
       "tools[0].functionDeclarations[0].parameters"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f","parametersJsonSchema":[]}]}]})",
       "tools[0].functionDeclarations[0].parametersJsonSchema"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f",
          "parameters":{"type":"OBJECT","properties":{"a":{"type":"ARRAY","items":{"type":7}}}}}]}]})",
       "tools[0].functionDeclarations[0].parameters.properties.a.items.type"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f",
          "parameters":{"anyOf":{"type":"STRING"}}}]}]})",
       "tools[0].functionDeclarations[0].parameters.anyOf"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"toolConfig":"AUTO"})", "toolConfig"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"toolConfig":{"functionCallingConfig":{"mode":"SOMETIMES"}}})",
       "toolConfig.functionCallingConfig.mode"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f"}]}],
          "toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["g"]}}})",
       "toolConfig.functionCallingConfig.allowedFunctionNames[0]"},
      {R"({"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f"}]}],
          "toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":"f"}}})",
       "toolConfig.functionCallingConfig.allowedFunctionNames"},
  };
  for (const auto& c : cases) {
    auto r = decode(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().kind, core::ErrorKind::kInvalidRequest) << c.body;
    EXPECT_EQ(r.error().param, c.param) << c.body << " -> " << r.error().message;
    EXPECT_FALSE(r.error().message.empty());
    EXPECT_EQ(gemini::protocol().error_status(r.error()), 400u);
  }
}

TEST(GeminiDecode, EmptyModelIsInvalid) {
  for (std::string_view model : {"", "models/"}) {
    auto r = decode(R"({"contents":[{"parts":[{"text":"x"}]}]})", model);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().kind, core::ErrorKind::kInvalidRequest);
    EXPECT_EQ(r.error().param, "model");
  }
}

// --- answer encode -----------------------------------------------------------------------------------

TEST(GeminiEncode, AnswerMatchesFixture) {
  auto out = gemini::generate_codec().encode(fixture("answer.json").as_object(), kCtx, kNow);
  EXPECT_EQ(json::parse(out), fixture("answer.gemini.json")) << out;
  EXPECT_EQ(gemini::generate_codec().content_type(), "application/json");
  EXPECT_FALSE(gemini::generate_codec().relays_answer());
}

TEST(GeminiEncode, FinishReasonsEmptyContentAndMissingIdAndUsage) {
  auto answer = chunk(R"({"choices":[
    {"finish_reason":"stop","message":{"content":""}},
    {"finish_reason":"content_filter","message":{"content":null}},
    {"finish_reason":"function_call","message":{"content":"a"}},
    {"finish_reason":"weird","message":{"content":"b"}},
    {"message":{"content":"c","tool_calls":[{"id":"t","function":{"name":"f","arguments":"not json"}}]}}]})");
  auto out = json::parse(gemini::generate_codec().encode(answer, kCtx, kNow)).as_object();
  EXPECT_EQ(out, json::parse(R"({"candidates":[
    {"content":{"role":"model","parts":[]},"finishReason":"STOP","index":0},
    {"content":{"role":"model","parts":[]},"finishReason":"SAFETY","index":1},
    {"content":{"role":"model","parts":[{"text":"a"}]},"finishReason":"STOP","index":2},
    {"content":{"role":"model","parts":[{"text":"b"}]},"finishReason":"OTHER","index":3},
    {"content":{"role":"model","parts":[{"text":"c"},{"functionCall":{"id":"t","name":"f","args":{"_raw":"not json"}}}]},
     "finishReason":"STOP","index":4}],
    "modelVersion":"gemini-2.5-flash","responseId":"req-42"})"));
}

// --- stream encode -----------------------------------------------------------------------------------

TEST(GeminiStream, TextDeltasGoOutAtOnceAndTheEndCarriesFinishAndUsage) {
  auto s = gemini::generate_codec().stream(kCtx);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->content_type(), "text/event-stream");
  std::string out;
  s->chunk(chunk(R"({"id":"chatcmpl-9","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})"), kNow,
           out);
  EXPECT_EQ(out, "");
  s->chunk(chunk(R"({"id":"chatcmpl-9","choices":[{"index":0,"delta":{"content":"Hel"}}]})"), kNow, out);
  EXPECT_EQ(out, R"(data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}],)"
                 R"("modelVersion":"gemini-2.5-flash","responseId":"chatcmpl-9"})"
                 "\r\n\r\n");
  out.clear();
  s->chunk(chunk(R"({"id":"chatcmpl-9","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]})"),
           kNow, out);
  EXPECT_EQ(events(out).size(), 1u);
  out.clear();
  s->chunk(chunk(R"({"id":"chatcmpl-9","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":2,"total_tokens":9,
                     "prompt_tokens_details":{"cached_tokens":3}}})"),
           kNow, out);
  EXPECT_EQ(out, "");
  s->finish(core::Usage{7, 2, 9, true}, kNow, out);
  auto e = events(out);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(
      e[0],
      json::parse(R"({"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP","index":0}],
    "usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":2,"totalTokenCount":9,"cachedContentTokenCount":3},
    "modelVersion":"gemini-2.5-flash","responseId":"chatcmpl-9"})"));
  EXPECT_EQ(out.find("[DONE]"), std::string::npos);
}

TEST(GeminiStream, ToolCallsAreSentWholeInTheLastEvent) {
  auto s = gemini::generate_codec().stream(kCtx);
  std::string out;
  auto call_chunk = [](json::object delta) {
    return json::object{{"id", "c"}, {"choices", json::array{json::object{{"index", 0}, {"delta", std::move(delta)}}}}};
  };
  auto fragment = [](std::string arguments) {
    return json::array{json::object{{"index", 0}, {"function", json::object{{"arguments", std::move(arguments)}}}}};
  };
  s->chunk(call_chunk(json::object{{"content", "On it."}}), kNow, out);
  ASSERT_EQ(events(out).size(), 1u);
  out.clear();
  json::array first{json::object{{"index", 0},
                                 {"id", "call_1"},
                                 {"type", "function"},
                                 {"function", json::object{{"name", "weather"}, {"arguments", ""}}}}};
  s->chunk(call_chunk(json::object{{"tool_calls", std::move(first)}}), kNow, out);
  // "ü" is C3 BC: the split falls between its two bytes.
  s->chunk(call_chunk(json::object{{"tool_calls", fragment("{\"city\":\"Z\xC3")}}), kNow, out);
  s->chunk(call_chunk(json::object{{"tool_calls", fragment("\xBCrich\"}")}}), kNow, out);
  json::array second{json::object{{"index", 1}, {"id", "call_2"}, {"function", json::object{{"name", "time"}}}}};
  s->chunk(call_chunk(json::object{{"tool_calls", std::move(second)}}), kNow, out);
  s->chunk(chunk(R"({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})"), kNow, out);
  EXPECT_EQ(out, "") << "tool-call fragments are held until the end";
  s->finish(core::Usage{5, 6, 11, true}, kNow, out);
  auto e = events(out);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].at("candidates"), json::parse(R"([{"content":{"role":"model","parts":[
      {"functionCall":{"id":"call_1","name":"weather","args":{"city":"Zürich"}}},
      {"functionCall":{"id":"call_2","name":"time","args":{}}}]},"finishReason":"STOP","index":0}])"));
  EXPECT_EQ(e[0].at("usageMetadata"),
            json::parse(R"({"promptTokenCount":5,"candidatesTokenCount":6,"totalTokenCount":11})"));
}

TEST(GeminiStream, EndsWithoutFinishChunkOrUsageChunk) {
  auto s = gemini::generate_codec().stream(kCtx);
  std::string out;
  s->chunk(chunk(R"({"choices":[{"delta":{"content":"partial"}}]})"), kNow, out);
  auto first = events(out);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].at("responseId"), "req-42");
  out.clear();
  s->finish(core::Usage{3, 1, 4, false}, kNow, out);
  auto e = events(out);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].at("candidates").at(0).at("finishReason"), "STOP");
  EXPECT_EQ(e[0].at("usageMetadata"),
            json::parse(R"({"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4})"));
  EXPECT_EQ(e[0].at("responseId"), "req-42");
}

TEST(GeminiStream, StreamWithNoContentStillEndsWithOneCandidate) {
  auto s = gemini::generate_codec().stream(kCtx);
  std::string out;
  s->chunk(chunk(R"({"id":"x","choices":[],"usage":{"prompt_tokens":2,"completion_tokens":0,"total_tokens":2}})"), kNow,
           out);
  EXPECT_EQ(out, "");
  s->finish(core::Usage{2, 0, 2, true}, kNow, out);
  auto e = events(out);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(
      e[0],
      json::parse(R"({"candidates":[{"content":{"role":"model","parts":[{"text":""}]},"finishReason":"STOP","index":0}],
    "usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":0,"totalTokenCount":2},
    "modelVersion":"gemini-2.5-flash","responseId":"x"})"));
}

TEST(GeminiStream, SeveralChoicesBecomeCandidatesByIndex) {
  auto s = gemini::generate_codec().stream(kCtx);
  std::string out;
  s->chunk(chunk(R"({"choices":[{"index":1,"delta":{"content":"B"}},{"index":0,"delta":{"content":"A"}}]})"), kNow,
           out);
  auto e = events(out);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].at("candidates"), json::parse(R"([{"content":{"role":"model","parts":[{"text":"B"}]},"index":1},
                                                 {"content":{"role":"model","parts":[{"text":"A"}]},"index":0}])"));
  out.clear();
  s->chunk(chunk(R"({"choices":[{"index":1,"delta":{},"finish_reason":"length"}]})"), kNow, out);
  s->chunk(chunk(R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"), kNow, out);
  s->finish(core::Usage{1, 2, 3, true}, kNow, out);
  e = events(out);
  ASSERT_EQ(e.size(), 1u);
  const auto& c = e[0].at("candidates").as_array();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].at("index"), 0);
  EXPECT_EQ(c[0].at("finishReason"), "STOP");
  EXPECT_EQ(c[1].at("index"), 1);
  EXPECT_EQ(c[1].at("finishReason"), "MAX_TOKENS");
}

TEST(GeminiStream, FailMidStreamEmitsAnErrorEventTheSdkThrowsOn) {
  auto s = gemini::generate_codec().stream(kCtx);
  std::string out;
  s->chunk(chunk(R"({"choices":[{"delta":{"content":"Hi"}}]})"), kNow, out);
  out.clear();
  s->fail(core::make_error(core::ErrorKind::kUpstreamError, "upstream broke"), out);
  auto e = events(out);
  ASSERT_EQ(e.size(), 1u);
  // @google/genai throws ApiError for a chunk whose error.code is a number in [400, 600).
  EXPECT_EQ(e[0], json::parse(R"({"error":{"code":502,"message":"upstream broke","status":"UNAVAILABLE"}})"));
}

// --- embeddings --------------------------------------------------------------------------------------

TEST(GeminiEmbed, DecodesToOpenAiEmbeddings) {
  auto r = gemini::embed_codec().decode(
      json::parse(R"({"model":"models/text-embedding-004","content":{"parts":[{"text":"a"},{"text":"b"}]},
                      "taskType":"RETRIEVAL_DOCUMENT","outputDimensionality":256})"),
      RouteParams{"models/text-embedding-004", false});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->op, Operation::kEmbeddings);
  EXPECT_EQ(r->model, "text-embedding-004");
  EXPECT_FALSE(r->stream);
  EXPECT_EQ(r->body,
            json::parse(R"({"model":"text-embedding-004","input":"a\nb","encoding_format":"float","dimensions":256})"));
  auto plain =
      gemini::embed_codec().decode(json::parse(R"({"content":{"parts":[{"text":"x"}]}})"), RouteParams{"e", false});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->body.as_object().contains("dimensions"));
}

TEST(GeminiEmbed, EncodesTheVector) {
  auto answer = chunk(R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-1,2]}],
                          "usage":{"prompt_tokens":2,"total_tokens":2}})");
  EXPECT_EQ(json::parse(gemini::embed_codec().encode(answer, kCtx, kNow)),
            json::parse(R"({"embedding":{"values":[0.5,-1,2]}})"));
  EXPECT_EQ(json::parse(gemini::embed_codec().encode(chunk(R"({"data":[]})"), kCtx, kNow)),
            json::parse(R"({"embedding":{"values":[]}})"));
}

TEST(GeminiEmbed, BatchDecodesOneRequestWithAllTexts) {
  auto r = gemini::batch_embed_codec().decode(json::parse(R"({"requests":[
      {"model":"models/e","content":{"role":"user","parts":[{"text":"one"}]},"outputDimensionality":8},
      {"model":"models/e","content":{"parts":[{"text":"two"},{"text":"lines"}]},"outputDimensionality":8}]})"),
                                              RouteParams{"models/e", false});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->op, Operation::kEmbeddings);
  EXPECT_EQ(r->body,
            json::parse(R"({"model":"e","input":["one","two\nlines"],"encoding_format":"float","dimensions":8})"));
}

TEST(GeminiEmbed, BatchEncodesInIndexOrder) {
  auto answer = chunk(R"({"data":[{"index":1,"embedding":[2]},{"index":0,"embedding":[1]},{"index":2}]})");
  EXPECT_EQ(json::parse(gemini::batch_embed_codec().encode(answer, kCtx, kNow)),
            json::parse(R"({"embeddings":[{"values":[1]},{"values":[2]},{"values":[]}]})"));
}

TEST(GeminiEmbed, BadInputIsInvalidRequest) {
  struct Case {
    const Codec* codec;
    const char* body;
    const char* model;
    const char* param;
  };
  const Codec* one = &gemini::embed_codec();
  const Codec* batch = &gemini::batch_embed_codec();
  const Case cases[] = {
      {one, R"({"content":{"parts":[{"text":"x"}]}})", "", "model"},
      {one, R"("x")", "e", ""},
      {one, R"({})", "e", "content"},
      {one, R"({"content":7})", "e", "content"},
      {one, R"({"content":{"parts":[{"inlineData":{"mimeType":"image/png","data":"AA"}}]}})", "e", "content.parts[0]"},
      {one, R"({"content":{"parts":[{"text":"x"}]},"outputDimensionality":0})", "e", "outputDimensionality"},
      {one, R"({"content":{"parts":[{"text":"x"}]},"outputDimensionality":"8"})", "e", "outputDimensionality"},
      {batch, R"({"requests":[{"content":{"parts":[{"text":"x"}]}}]})", "models/", "model"},
      {batch, R"({"requests":[]})", "e", "requests"},
      {batch, R"({})", "e", "requests"},
      {batch, R"({"requests":[5]})", "e", "requests[0]"},
      {batch, R"({"requests":[{"content":{"parts":[{"text":"x"}]}},{}]})", "e", "requests[1].content"},
      {batch, R"({"requests":[{"content":{"parts":[{"text":"x"}]},"outputDimensionality":4},
                              {"content":{"parts":[{"text":"y"}]}}]})",
       "e", "requests[1].outputDimensionality"},
  };
  for (const auto& c : cases) {
    auto r = c.codec->decode(json::parse(c.body), RouteParams{c.model, false});
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().kind, core::ErrorKind::kInvalidRequest) << c.body;
    EXPECT_EQ(r.error().param, c.param) << c.body << " -> " << r.error().message;
  }
}

// --- countTokens and models --------------------------------------------------------------------------

TEST(GeminiCountTokens, EstimatesTheDecodedRequest) {
  const char* body = R"({"contents":[{"parts":[{"text":"Hello there, how are you today?"}]}]})";
  auto n = gemini::count_tokens(json::parse(body), "models/g");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, common::estimate_prompt_tokens(canonical(body)));
  EXPECT_GT(*n, 4);
  auto nested = gemini::count_tokens(
      json::parse(std::string(R"({"generateContentRequest":{"model":"models/g",)") + (body + 1) + "}"), "g");
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(*nested, *n);
  EXPECT_EQ(json::parse(gemini::count_tokens_body(42)), json::parse(R"({"totalTokens":42})"));
}

TEST(GeminiCountTokens, ErrorsNameTheFieldInsideTheNestedRequest) {
  auto plain = gemini::count_tokens(json::parse(R"({"contents":[]})"), "g");
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().param, "contents");
  auto nested = gemini::count_tokens(json::parse(R"({"generateContentRequest":{"contents":[{"parts":[{}]}]}})"), "g");
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.error().kind, core::ErrorKind::kInvalidRequest);
  EXPECT_EQ(nested.error().param, "generateContentRequest.contents[0].parts[0]");
  auto not_object = gemini::count_tokens(json::parse(R"({"generateContentRequest":3})"), "g");
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.error().param, "generateContentRequest");
  EXPECT_FALSE(gemini::count_tokens(json::parse(R"({"contents":[{"parts":[{"text":"x"}]}]})"), "").ok());
}

TEST(GeminiModels, ListAndGetUseTheModelSchema) {
  std::vector<common::ModelInfo> models{{"gpt-4o", 1700000000, "openai"}, {"models/llama3", 0, ""}};
  auto list = json::parse(gemini::models_body(models));
  const char* methods =
      R"(["generateContent","streamGenerateContent","countTokens","embedContent","batchEmbedContents"])";
  auto expected = [&](const char* id, const char* description) {
    return json::object{{"name", std::string("models/") + id},
                        {"baseModelId", id},
                        {"version", "001"},
                        {"displayName", id},
                        {"description", description},
                        {"inputTokenLimit", 131072},
                        {"outputTokenLimit", 8192},
                        {"supportedGenerationMethods", json::parse(methods)}};
  };
  EXPECT_EQ(list, (json::object{{"models", json::array{expected("gpt-4o", "gpt-4o served by anygpt (owned by openai)"),
                                                       expected("llama3", "llama3 served by anygpt")}}}));
  EXPECT_EQ(json::parse(gemini::model_body(models[0])), list.at("models").at(0));
  EXPECT_EQ(json::parse(gemini::models_body({})), json::parse(R"({"models":[]})"));
}
