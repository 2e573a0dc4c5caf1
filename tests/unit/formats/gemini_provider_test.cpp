#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "formats/gemini/provider.hpp"
#include "stream_agreement.hpp"

using namespace anygpt;
using namespace anygpt::formats;
namespace json = boost::json;

namespace {

std::string fixture_text(const std::string& name) {
  std::ifstream in(std::string(ANYGPT_FIXTURES_DIR) + "/gemini/" + name, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

json::value fixture(const std::string& name) {
  return json::parse(fixture_text(name));
}

const ProviderCodec& codec() {
  return gemini::provider_codec();
}

const UpstreamCall kChat{Operation::kChat, "gemini-2.5-flash", false, 4096};
const UpstreamCall kStream{Operation::kChat, "gemini-2.5-flash", true, 4096};
const UpstreamCall kEmbed{Operation::kEmbeddings, "gemini-embedding-001", false, 4096};

// The Gemini body of a canonical request that must encode.
json::value encode(std::string_view canonical, const UpstreamCall& call = kChat) {
  auto r = codec().encode_request(json::parse(canonical).as_object(), call);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? json::parse(*r) : json::value();
}

core::Error encode_error(std::string_view canonical, const UpstreamCall& call = kChat) {
  auto r = codec().encode_request(json::parse(canonical).as_object(), call);
  EXPECT_FALSE(r.ok()) << "encoded: " << (r.ok() ? *r : "");
  return r.ok() ? core::Error{} : r.error();
}

// A one-user-message request with extra top-level fields.
std::string chat_with(std::string_view fields) {
  std::string body = R"({"model":"m","messages":[{"role":"user","content":"hi"}]})";
  if (fields.empty()) return body;
  body.pop_back();  // (append, not insert "," + fields: GCC 12 -O3 warns a false -Wrestrict on that)
  body.append(",").append(fields).append("}");
  return body;
}

// The Gemini parameters of one tool whose JSON Schema is `schema`.
json::value reduced(std::string_view schema) {
  auto body = encode(
      chat_with(R"("tools":[{"type":"function","function":{"name":"f","parameters":)" + std::string(schema) + "}}]"));
  return body.at_pointer("/tools/0/functionDeclarations/0/parameters");
}

json::object decode(std::string_view body, const UpstreamCall& call = kChat) {
  auto r = codec().decode_answer(body, call);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : json::object{};
}

core::Error decode_error(std::string_view body, const UpstreamCall& call = kChat) {
  auto r = codec().decode_answer(body, call);
  EXPECT_FALSE(r.ok()) << "decoded: " << (r.ok() ? json::serialize(*r) : "");
  return r.ok() ? core::Error{} : r.error();
}

struct StreamRun {
  std::vector<json::object> chunks;
  std::optional<core::Error> error;
  bool complete = false;
};

StreamRun run_stream(const std::vector<std::string_view>& pieces) {
  auto decoder = codec().stream_decoder(kStream);
  StreamRun run;
  for (auto piece : pieces) {
    run.error = decoder->feed(piece, run.chunks);
    if (run.error) break;
  }
  run.complete = decoder->complete();
  return run;
}

// A whole body is also watched: the same-protocol watcher must agree with the decoder on it.
StreamRun run_stream(std::string_view body) {
  agreement::expect_agreement(codec(), kStream, body);
  return run_stream(std::vector<std::string_view>{body});
}

json::value as_value(const std::vector<json::object>& chunks) {
  json::array out;
  for (const auto& c : chunks) out.push_back(c);
  return out;
}

// One SSE event (Gemini writes each response on one line).
std::string event(std::string_view json_text) {
  std::string line(json_text);
  for (char& c : line)
    if (c == '\n') c = ' ';
  return "data: " + line + "\r\n\r\n";
}

// choices[0].delta of a chunk.
json::value delta(const json::object& chunk) {
  return chunk.at("choices").at(0).at("delta");
}

}  // namespace

// --- paths and errors ---------------------------------------------------------------------------------

TEST(GeminiProvider, Paths) {
  EXPECT_EQ(codec().path(kChat), "/models/gemini-2.5-flash:generateContent");
  EXPECT_EQ(codec().path(kStream), "/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  EXPECT_EQ(codec().path(kEmbed), "/models/gemini-embedding-001:batchEmbedContents");
  UpstreamCall prefixed{Operation::kChat, "models/gemini-2.0-flash", false, 4096};
  EXPECT_EQ(codec().path(prefixed), "/models/gemini-2.0-flash:generateContent");
}

TEST(GeminiProvider, ErrorMessageReadsObjectAndArrayBodies) {
  EXPECT_EQ(codec().error_message(R"({"error":{"code":400,"message":"Bad key","status":"INVALID_ARGUMENT"}})"),
            "Bad key");
  EXPECT_EQ(codec().error_message(R"([{"error":{"code":429,"message":"Quota","status":"RESOURCE_EXHAUSTED"}}])"),
            "Quota");
  EXPECT_EQ(codec().error_message("<html>502</html>"), "");
  EXPECT_EQ(codec().error_message(R"({"candidates":[]})"), "");
  EXPECT_EQ(codec().error_message(""), "");
}

// --- requests -----------------------------------------------------------------------------------------

TEST(GeminiProviderRequest, FullRequestMatchesFixture) {
  auto canonical = fixture("provider_request.canonical.json").as_object();
  auto r = codec().encode_request(canonical, kStream);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(json::parse(*r), fixture("provider_request.gemini.json")) << *r;
}

TEST(GeminiProviderRequest, PlainTextHasOnlyContents) {
  EXPECT_EQ(encode(chat_with("")), json::parse(R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})"));
}

TEST(GeminiProviderRequest, ConsecutiveTurnsOfOneRoleAreMerged) {
  auto body = encode(R"({"messages":[{"role":"user","content":"a"},{"role":"system","content":"s"},
    {"role":"user","content":[{"type":"text","text":"b"}]},{"role":"assistant","content":"c"},
    {"role":"assistant","content":"d"},{"role":"user","content":"e"}]})");
  EXPECT_EQ(body.at("contents"), json::parse(R"([{"role":"user","parts":[{"text":"a"},{"text":"b"}]},
    {"role":"model","parts":[{"text":"c"},{"text":"d"}]},{"role":"user","parts":[{"text":"e"}]}])"));
  EXPECT_EQ(body.at("systemInstruction"), json::parse(R"({"parts":[{"text":"s"}]})"));
}

TEST(GeminiProviderRequest, EmptyMessagesAreSkipped) {
  auto body = encode(R"({"messages":[{"role":"system","content":""},{"role":"user","content":""},
    {"role":"assistant","content":null},{"role":"user","content":"x"}]})");
  EXPECT_EQ(body, json::parse(R"({"contents":[{"role":"user","parts":[{"text":"x"}]}]})"));
  auto e = encode_error(R"({"messages":[{"role":"system","content":"only a system prompt"}]})");
  EXPECT_EQ(e.kind, core::ErrorKind::kInvalidRequest);
  EXPECT_EQ(e.param, "messages");
}

TEST(GeminiProviderRequest, ToolResultIsNamedAfterTheNearestEarlierCall) {
  // call_0 is reused by a later turn (ids generated per answer): each result answers its own call.
  auto body = encode(R"({"messages":[{"role":"user","content":"q"},
    {"role":"assistant","tool_calls":[{"id":"call_0","type":"function","function":{"name":"first","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"call_0","content":"[1,2]"},
    {"role":"assistant","tool_calls":[{"id":"call_0","type":"function","function":{"name":"second","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"call_0","content":"not json"}]})");
  EXPECT_EQ(body.at_pointer("/contents/2/parts/0/functionResponse"),
            json::parse(R"({"id":"call_0","name":"first","response":{"result":"[1,2]"}})"));
  EXPECT_EQ(body.at_pointer("/contents/4/parts/0/functionResponse"),
            json::parse(R"({"id":"call_0","name":"second","response":{"result":"not json"}})"));
}

TEST(GeminiProviderRequest, UnsignedCallsGetTheSkipSentinelOnTheFirstCallOnly) {
  auto body = encode(R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[
    {"id":"a","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}},
    {"id":"b","type":"function","function":{"name":"g","arguments":"oops"}}]}]})");
  auto parts = body.at_pointer("/contents/1/parts").as_array();
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].at("thoughtSignature"), "skip_thought_signature_validator");
  EXPECT_FALSE(parts[1].as_object().contains("thoughtSignature"));
  // Arguments that are not a JSON object are kept, not lost.
  EXPECT_EQ(parts[1].at("functionCall").at("args"), json::parse(R"({"_raw":"oops"})"));
}

TEST(GeminiProviderRequest, ToolChoiceModes) {
  std::string tools = R"("tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":)";
  auto mode = [&](std::string_view choice) {
    return encode(chat_with(tools + std::string(choice))).at_pointer("/toolConfig/functionCallingConfig");
  };
  EXPECT_EQ(mode(R"("auto")"), json::parse(R"({"mode":"AUTO"})"));
  EXPECT_EQ(mode(R"("none")"), json::parse(R"({"mode":"NONE"})"));
  EXPECT_EQ(mode(R"("required")"), json::parse(R"({"mode":"ANY"})"));
  EXPECT_EQ(mode(R"({"type":"function","function":{"name":"f"}})"),
            json::parse(R"({"mode":"ANY","allowedFunctionNames":["f"]})"));
  EXPECT_EQ(encode_error(chat_with(tools + R"("sometimes")")).param, "tool_choice");
  // No tools: tool_choice has nothing to govern and is dropped.
  EXPECT_FALSE(encode(chat_with(R"("tool_choice":"required")")).as_object().contains("toolConfig"));
}

TEST(GeminiProviderRequest, GenerationConfigFields) {
  auto config =
      encode(chat_with(R"("temperature":1,"top_k":40,"max_tokens":50,"stop":["a","b"],"n":2)")).at("generationConfig");
  EXPECT_EQ(config, json::parse(R"({"temperature":1,"topK":40,"candidateCount":2,"maxOutputTokens":50,
    "stopSequences":["a","b"]})"));
  EXPECT_EQ(encode(chat_with(R"("temperature":null,"stop":[])")).as_object().count("generationConfig"), 0u);
}

TEST(GeminiProviderRequest, ResponseFormats) {
  EXPECT_EQ(encode(chat_with(R"("response_format":{"type":"json_object"})")).at("generationConfig"),
            json::parse(R"({"responseMimeType":"application/json"})"));
  EXPECT_FALSE(encode(chat_with(R"("response_format":{"type":"text"})")).as_object().contains("generationConfig"));
  EXPECT_EQ(encode_error(chat_with(R"("response_format":{"type":"yaml"})")).param, "response_format.type");
}

TEST(GeminiProviderRequest, HttpImageWithoutKnownExtensionHasNoMimeType) {
  auto body = encode(R"({"messages":[{"role":"user","content":[
    {"type":"image_url","image_url":"https://example.com/render?id=3"},
    {"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0=","filename":"a.pdf"}}]}]})");
  EXPECT_EQ(body.at_pointer("/contents/0/parts"),
            json::parse(R"([{"fileData":{"fileUri":"https://example.com/render?id=3"}},
              {"inlineData":{"mimeType":"application/pdf","data":"JVBERi0="}}])"));
}

TEST(GeminiProviderRequest, InvalidInputsNameTheField) {
  struct Case {
    std::string body;
    std::string param;
  };
  std::vector<Case> cases = {
      {R"({"messages":"hi"})", "messages"},
      {R"({"messages":[{"role":"critic","content":"x"}]})", "messages[0].role"},
      {R"({"messages":[{"role":"user","content":[{"type":"video","video":{}}]}]})", "messages[0].content[0].type"},
      {R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]})",
       "messages[0].content[0].image_url.url"},
      {R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]})",
       "messages[0].content[0].image_url.url"},
      {R"({"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]})",
       "messages[0].content[0].file"},
      {R"({"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,x"}}]}]})",
       "messages[0].content[0]"},
      {R"({"messages":[{"role":"user","content":"q"},{"role":"tool","tool_call_id":"nope","content":"r"}]})",
       "messages[1].tool_call_id"},
      {R"({"messages":[{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{}}]}]})",
       "messages[0].tool_calls[0].function.name"},
      {chat_with(R"("tools":[{"type":"web_search"}])"), "tools[0].type"},
      {chat_with(R"("functions":[{"name":"f"}])"), "functions"},
      {chat_with(R"("temperature":"hot")"), "temperature"},
      {chat_with(R"("max_completion_tokens":1.5)"), "max_completion_tokens"},
      {chat_with(R"("stop":[1])"), "stop"},
  };
  for (const auto& c : cases) {
    auto e = encode_error(c.body);
    EXPECT_EQ(e.kind, core::ErrorKind::kInvalidRequest) << c.body;
    EXPECT_EQ(e.param, c.param) << c.body << ": " << e.message;
  }
}

// --- schema reduction ---------------------------------------------------------------------------------

TEST(GeminiProviderSchema, NullableTypesAndBranches) {
  EXPECT_EQ(reduced(R"({"type":"object","properties":{
      "a":{"type":["integer","null"]},
      "b":{"anyOf":[{"type":"string","maxLength":5},{"type":"null"}],"description":"B"},
      "c":{"oneOf":[{"type":"string"},{"type":"number"}]},
      "d":{"type":["string","boolean"]}}})"),
            json::parse(R"({"type":"OBJECT","properties":{
      "a":{"type":"INTEGER","nullable":true},
      "b":{"type":"STRING","maxLength":5,"description":"B","nullable":true},
      "c":{"anyOf":[{"type":"STRING"},{"type":"NUMBER"}]},
      "d":{"anyOf":[{"type":"STRING"},{"type":"BOOLEAN"}]}}})"));
}

TEST(GeminiProviderSchema, RefsAllOfAndUnsupportedKeywords) {
  EXPECT_EQ(reduced(R"({"type":"object","$defs":{"Pet":{"type":"object","title":"Pet",
        "properties":{"name":{"type":"string","pattern":"^[a-z]+$"}},"required":["name"]}},
      "properties":{
        "pet":{"$ref":"#/$defs/Pet","description":"The pet"},
        "owner":{"allOf":[{"$ref":"#/definitions/Missing"}],"type":"string"},
        "tags":{"type":"array","uniqueItems":true,"minItems":1,"items":{"type":"string","format":"email"}},
        "score":{"type":"number","minimum":0,"maximum":1,"exclusiveMaximum":1,"multipleOf":0.5,"format":"float"},
        "kind":{"const":"cat"},
        "level":{"enum":[1,2,3],"type":"integer"},
        "free":{"type":"object","additionalProperties":{"type":"string"}},
        "list":{"type":"array"},
        "untyped":{"properties":{"x":{"type":"boolean","default":true}}}}})"),
            json::parse(R"({"type":"OBJECT","properties":{
        "pet":{"type":"OBJECT","title":"Pet","description":"The pet",
               "properties":{"name":{"type":"STRING","pattern":"^[a-z]+$"}},"required":["name"]},
        "owner":{"type":"STRING"},
        "tags":{"type":"ARRAY","minItems":1,"items":{"type":"STRING"}},
        "score":{"type":"NUMBER","minimum":0,"maximum":1,"format":"float"},
        "kind":{"type":"STRING","enum":["cat"]},
        "level":{"type":"INTEGER"},
        "free":{"type":"OBJECT"},
        "list":{"type":"ARRAY","items":{"type":"STRING"}},
        "untyped":{"type":"OBJECT","properties":{"x":{"type":"BOOLEAN"}}}}})"));
}

TEST(GeminiProviderSchema, RecursiveRefsAreBounded) {
  auto schema = reduced(R"({"type":"object","properties":{"root":{"$ref":"#/$defs/Node"}},
    "$defs":{"Node":{"type":"object","properties":{"left":{"$ref":"#/$defs/Node"},"right":{"$ref":"#/$defs/Node"}}}}})");
  EXPECT_EQ(schema.at_pointer("/properties/root/type"), "OBJECT");
  EXPECT_EQ(schema.at_pointer("/properties/root/properties/left/properties/right/type"), "OBJECT");
  // Unrolled three times, then cut to the definition's type.
  EXPECT_EQ(schema.at_pointer("/properties/root/properties/left/properties/right/properties/left"),
            json::parse(R"({"type":"OBJECT"})"));
  EXPECT_LT(json::serialize(schema).size(), 200000u);  // the node budget stops the exponential expansion
}

TEST(GeminiProviderSchema, KeywordsOnlyWhereTheirTypeAllowsThem) {
  EXPECT_EQ(reduced(R"({"type":"object","properties":{
      "s":{"type":"string","properties":{"x":{"type":"string"}},"required":["x"],"items":{"type":"string"}},
      "either":{"type":["object","string"],"properties":{"x":{"type":"string"}}}}})"),
            json::parse(R"({"type":"OBJECT","properties":{
      "s":{"type":"STRING"},
      "either":{"anyOf":[{"type":"OBJECT"},{"type":"STRING"}]}}})"));
}

TEST(GeminiProviderSchema, FunctionsWithoutParametersDeclareNone) {
  for (auto schema : {R"({"type":"object"})", R"({"type":"object","properties":{},"required":[]})", R"({})"}) {
    auto body = encode(
        chat_with(R"("tools":[{"type":"function","function":{"name":"f","parameters":)" + std::string(schema) + "}}]"));
    EXPECT_EQ(body.at_pointer("/tools/0/functionDeclarations/0"), json::parse(R"({"name":"f"})")) << schema;
  }
}

// --- embeddings ---------------------------------------------------------------------------------------

TEST(GeminiProviderEmbeddings, RequestHasOneEntryPerInput) {
  EXPECT_EQ(encode(R"({"model":"e","input":["a","b"],"dimensions":256,"encoding_format":"float"})", kEmbed),
            json::parse(R"({"requests":[
      {"model":"models/gemini-embedding-001","content":{"parts":[{"text":"a"}]},"outputDimensionality":256},
      {"model":"models/gemini-embedding-001","content":{"parts":[{"text":"b"}]},"outputDimensionality":256}]})"));
  EXPECT_EQ(
      encode(R"({"input":"one"})", kEmbed),
      json::parse(R"({"requests":[{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"one"}]}}]})"));
}

TEST(GeminiProviderEmbeddings, RequestErrors) {
  EXPECT_EQ(encode_error(R"({"input":[[1,2,3]]})", kEmbed).param, "input");
  EXPECT_EQ(encode_error(R"({"input":[]})", kEmbed).param, "input");
  EXPECT_EQ(encode_error(R"({"input":"x","dimensions":0})", kEmbed).param, "dimensions");
}

TEST(GeminiProviderEmbeddings, AnswerIsAnOpenAIList) {
  EXPECT_EQ(json::value(decode(R"({"embeddings":[{"values":[0.1,-0.2]},{"values":[0.3,0.4]}]})", kEmbed)),
            json::parse(R"({"object":"list","data":[
      {"object":"embedding","index":0,"embedding":[0.1,-0.2]},{"object":"embedding","index":1,"embedding":[0.3,0.4]}],
      "model":"gemini-embedding-001"})"));  // Gemini reports no usage: none is invented
  auto vertex = decode(R"({"embeddings":[{"values":[1]}],"usageMetadata":{"promptTokenCount":7}})", kEmbed);
  EXPECT_EQ(vertex.at("usage"), json::parse(R"({"prompt_tokens":7,"total_tokens":7})"));
  EXPECT_EQ(decode_error(R"({"embeddings":[{"value":[1]}]})", kEmbed).kind, core::ErrorKind::kUpstreamError);
  EXPECT_EQ(decode_error(R"({"predictions":[]})", kEmbed).kind, core::ErrorKind::kUpstreamError);
}

// --- answers ------------------------------------------------------------------------------------------

TEST(GeminiProviderAnswer, FullAnswerMatchesFixture) {
  auto answer = decode(fixture_text("provider_answer.gemini.json"));
  EXPECT_EQ(json::value(answer), fixture("provider_answer.canonical.json")) << json::serialize(answer);
}

TEST(GeminiProviderAnswer, FinishReasons) {
  struct Case {
    std::string_view gemini;
    std::string_view openai;
  };
  for (auto [gemini_reason, openai_reason] : std::vector<Case>{{"STOP", "stop"},
                                                               {"MAX_TOKENS", "length"},
                                                               {"SAFETY", "content_filter"},
                                                               {"RECITATION", "content_filter"},
                                                               {"BLOCKLIST", "content_filter"},
                                                               {"PROHIBITED_CONTENT", "content_filter"},
                                                               {"SPII", "content_filter"},
                                                               {"IMAGE_SAFETY", "content_filter"},
                                                               {"MALFORMED_FUNCTION_CALL", "stop"},
                                                               {"LANGUAGE", "stop"},
                                                               {"OTHER", "stop"},
                                                               {"SOMETHING_NEW", "stop"}}) {
    auto answer = decode(R"({"candidates":[{"content":{"role":"model","parts":[]},"finishReason":")" +
                         std::string(gemini_reason) + R"("}]})");
    EXPECT_EQ(answer.at("choices").at(0).at("finish_reason"), json::value(openai_reason)) << gemini_reason;
    EXPECT_EQ(answer.at("choices").at(0).at("message").at("content"), "") << gemini_reason;
  }
}

TEST(GeminiProviderAnswer, BlockedPromptIsAContentFilterAnswer) {
  auto answer = decode(R"({"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},
    "usageMetadata":{"promptTokenCount":5,"totalTokenCount":5},"responseId":"r"})");
  EXPECT_EQ(answer.at("choices"), json::parse(R"([{"index":0,"message":{"role":"assistant","content":""},
    "finish_reason":"content_filter"}])"));
  EXPECT_EQ(answer.at("usage"), json::parse(R"({"prompt_tokens":5,"completion_tokens":0,"total_tokens":5})"));
  EXPECT_EQ(answer.at("model"), "gemini-2.5-flash");
}

TEST(GeminiProviderAnswer, SeveralCandidatesAndGeneratedIdsAreUnique) {
  auto answer = decode(R"({"candidates":[
    {"index":0,"content":{"parts":[{"functionCall":{"name":"f","args":{"a":1}}}]},"finishReason":"STOP"},
    {"index":1,"content":{"parts":[{"functionCall":{"name":"f"}},{"text":"and"}]},"finishReason":"MAX_TOKENS"}]})");
  const auto& choices = answer.at("choices").as_array();
  ASSERT_EQ(choices.size(), 2u);
  EXPECT_EQ(choices[0].at("message"), json::parse(R"({"role":"assistant","content":null,"tool_calls":[
    {"id":"call_0","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]})"));
  EXPECT_EQ(choices[0].at("finish_reason"), "tool_calls");
  EXPECT_EQ(choices[1].at("message"), json::parse(R"({"role":"assistant","content":"and","tool_calls":[
    {"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]})"));
  EXPECT_EQ(choices[1].at("finish_reason"), "length");
  EXPECT_FALSE(answer.contains("usage"));
  EXPECT_EQ(answer.at("id"), "chatcmpl-gemini");
}

TEST(GeminiProviderAnswer, MalformedAnswersAreUpstreamErrors) {
  for (std::string_view body : {"not json", "[1,2]", R"({})", R"({"candidates":{}})", R"({"candidates":[7]})",
                                R"({"candidates":[{"content":{"parts":[{"functionCall":{"args":{}}}]}}]})"}) {
    auto e = decode_error(body);
    EXPECT_EQ(e.kind, core::ErrorKind::kUpstreamError) << body;
    EXPECT_FALSE(e.message.empty());
  }
}

TEST(GeminiProviderAnswer, ErrorBodyIsTheUpstreamError) {
  auto e = decode_error(R"({"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}})");
  EXPECT_EQ(e.kind, core::ErrorKind::kUpstreamUnavailable);
  EXPECT_EQ(e.upstream_status, 503);
  EXPECT_EQ(e.code, "UNAVAILABLE");
  EXPECT_NE(e.message.find("The model is overloaded."), std::string::npos);
}

// --- streams ------------------------------------------------------------------------------------------

TEST(GeminiProviderStream, TextStreamWhole) {
  auto run = run_stream(fixture_text("provider_stream.sse"));
  ASSERT_FALSE(run.error) << run.error->message;
  EXPECT_TRUE(run.complete);
  EXPECT_EQ(as_value(run.chunks), fixture("provider_stream.chunks.json")) << json::serialize(as_value(run.chunks));
}

TEST(GeminiProviderStream, SplitAtEveryByteGivesTheSameChunks) {
  std::string sse = fixture_text("provider_stream.sse");
  auto expected = fixture("provider_stream.chunks.json");
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < sse.size(); ++i) bytes.push_back(std::string_view(sse).substr(i, 1));
  auto one_by_one = run_stream(bytes);
  EXPECT_TRUE(one_by_one.complete);
  EXPECT_EQ(as_value(one_by_one.chunks), expected);
  for (std::size_t k = 1; k < sse.size(); ++k) {
    std::string_view all(sse);
    auto run = run_stream({all.substr(0, k), all.substr(k)});
    ASSERT_TRUE(run.complete) << "split at " << k;
    ASSERT_EQ(as_value(run.chunks), expected) << "split at " << k;
  }
}

TEST(GeminiProviderStream, ChunksGoOutAsSoonAsTheirEventIsComplete) {
  std::string sse = fixture_text("provider_stream.sse");
  auto first_end = sse.find("\r\n\r\n") + 4;
  auto decoder = codec().stream_decoder(kStream);
  std::vector<json::object> chunks;
  ASSERT_FALSE(decoder->feed(std::string_view(sse).substr(0, first_end - 1), chunks));
  EXPECT_TRUE(chunks.empty());
  ASSERT_FALSE(decoder->feed(std::string_view(sse).substr(first_end - 1, 1), chunks));
  ASSERT_EQ(chunks.size(), 3u);  // role, reasoning, text of the first event
  EXPECT_EQ(delta(chunks[2]), json::parse(R"({"content":"The capital"})"));
  EXPECT_FALSE(decoder->complete());
  // Chunks own their storage: they outlive the decoder and the bytes.
  decoder.reset();
  sse.assign(sse.size(), 'x');
  EXPECT_EQ(chunks[0].storage().get(), json::storage_ptr().get());
  EXPECT_EQ(chunks[2].at("id"), "chatcmpl-IZI2acSK");
}

TEST(GeminiProviderStream, CutBeforeFinishIsIncomplete) {
  std::string sse = fixture_text("provider_stream.sse");
  auto run = run_stream(std::string_view(sse).substr(0, sse.rfind("data: ")));
  EXPECT_FALSE(run.error);
  EXPECT_FALSE(run.complete);
  ASSERT_EQ(run.chunks.size(), 4u);
  for (const auto& c : run.chunks) EXPECT_FALSE(c.contains("usage"));
  // An event cut in its middle sends nothing and is not complete either.
  auto cut = run_stream(std::string_view(sse).substr(0, sse.size() - 10));
  EXPECT_FALSE(cut.complete);
  EXPECT_EQ(cut.chunks.size(), 4u);
}

TEST(GeminiProviderStream, ParallelToolCallsAreWholeChunks) {
  auto run = run_stream(event(R"({"candidates":[{"content":{"role":"model","parts":[
      {"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2ln"},
      {"functionCall":{"id":"g1","name":"get_weather","args":{"city":"Rome"}}}]},
      "finishReason":"STOP","index":0}],
    "usageMetadata":{"promptTokenCount":30,"candidatesTokenCount":10,"totalTokenCount":40},
    "modelVersion":"gemini-2.5-flash","responseId":"t1"})"));
  ASSERT_FALSE(run.error);
  EXPECT_TRUE(run.complete);
  ASSERT_EQ(run.chunks.size(), 5u);
  EXPECT_EQ(delta(run.chunks[1]), json::parse(R"({"tool_calls":[{"index":0,"id":"call_0","type":"function",
    "function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
    "extra_content":{"google":{"thought_signature":"c2ln"}}}]})"));
  EXPECT_EQ(delta(run.chunks[2]), json::parse(R"({"tool_calls":[{"index":1,"id":"g1","type":"function",
    "function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]})"));
  EXPECT_EQ(run.chunks[3].at("choices").at(0).at("finish_reason"), "tool_calls");
  EXPECT_EQ(run.chunks[4].at("usage"), json::parse(R"({"prompt_tokens":30,"completion_tokens":10,"total_tokens":40})"));
  EXPECT_EQ(run.chunks[4].at("choices"), json::array());
}

TEST(GeminiProviderStream, ToolCallsAcrossEventsKeepCountingIndexes) {
  auto run = run_stream(event(R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"a"}}]},"index":0}]})") +
                        event(R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"b"}}]},"index":0,
                          "finishReason":"STOP"}]})"));
  ASSERT_EQ(run.chunks.size(), 4u);
  EXPECT_EQ(delta(run.chunks[1]).at("tool_calls").at(0).at("index"), 0);
  EXPECT_EQ(delta(run.chunks[2]).at("tool_calls").at(0).at("index"), 1);
  EXPECT_EQ(delta(run.chunks[2]).at("tool_calls").at(0).at("id"), "call_1");
  EXPECT_EQ(run.chunks[3].at("choices").at(0).at("finish_reason"), "tool_calls");
  EXPECT_TRUE(run.complete);  // no usageMetadata: no usage chunk (the relay estimates)
}

TEST(GeminiProviderStream, InBandErrors) {
  auto overloaded = run_stream(
      event(R"({"candidates":[{"content":{"parts":[{"text":"Hel"}]},"index":0}]})") +
      event(R"({"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}})"));
  ASSERT_TRUE(overloaded.error);
  EXPECT_EQ(overloaded.error->kind, core::ErrorKind::kUpstreamUnavailable);
  EXPECT_EQ(overloaded.error->upstream_status, 429);
  EXPECT_EQ(overloaded.chunks.size(), 2u);  // what came before the error was delivered
  EXPECT_FALSE(overloaded.complete);

  auto unavailable = run_stream(event(R"([{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}])"));
  ASSERT_TRUE(unavailable.error);
  EXPECT_EQ(unavailable.error->kind, core::ErrorKind::kUpstreamUnavailable);

  auto internal = run_stream(event(R"({"error":{"code":500,"message":"An internal error","status":"INTERNAL"}})"));
  ASSERT_TRUE(internal.error);
  EXPECT_EQ(internal.error->kind, core::ErrorKind::kUpstreamError);
  EXPECT_NE(internal.error->message.find("An internal error"), std::string::npos);
}

TEST(GeminiProviderStream, MalformedEventsAreUpstreamErrors) {
  for (std::string body :
       {event("{\"candidates\":[{\"content\""), event("[1]"), event("42"), event(R"({"candidates":"many"})")}) {
    auto run = run_stream(body);
    ASSERT_TRUE(run.error) << body;
    EXPECT_EQ(run.error->kind, core::ErrorKind::kUpstreamError) << body;
  }
}

TEST(GeminiProviderStream, OddInputsAreSkipped) {
  // Comments, empty data, unknown parts, a candidate without content, \n framing.
  auto run = run_stream(std::string(": keep-alive\n\n") + "data:\n\n" +
                        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":{\"mimeType\":\"image/png\","
                        "\"data\":\"AA==\"}},{\"text\":\"\"},{\"codeExecutionResult\":{}}]},\"index\":0}]}\n\n" +
                        "data: {\"candidates\":[{\"index\":0,\"finishReason\":\"SAFETY\"}]}\n\n");
  ASSERT_FALSE(run.error) << run.error->message;
  EXPECT_TRUE(run.complete);
  ASSERT_EQ(run.chunks.size(), 2u);
  EXPECT_EQ(delta(run.chunks[0]), json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_EQ(run.chunks[1].at("choices").at(0).at("finish_reason"), "content_filter");
  EXPECT_EQ(run.chunks[1].at("id"), "chatcmpl-gemini");
  EXPECT_EQ(run.chunks[1].at("model"), "gemini-2.5-flash");
}

TEST(GeminiProviderStream, BlockedPromptEndsTheStream) {
  auto run = run_stream(event(R"({"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},
    "usageMetadata":{"promptTokenCount":9,"totalTokenCount":9},"responseId":"b"})"));
  ASSERT_FALSE(run.error);
  EXPECT_TRUE(run.complete);
  ASSERT_EQ(run.chunks.size(), 3u);
  EXPECT_EQ(run.chunks[1].at("choices").at(0).at("finish_reason"), "content_filter");
  EXPECT_EQ(run.chunks[2].at("usage"), json::parse(R"({"prompt_tokens":9,"completion_tokens":0,"total_tokens":9})"));
}

TEST(GeminiProviderStream, SeveralCandidatesEndWhenAllFinished) {
  auto run =
      run_stream(event(R"({"candidates":[{"content":{"parts":[{"text":"A"}]},"index":0,"finishReason":"STOP"},
                              {"content":{"parts":[{"text":"B"}]},"index":1}]})") +
                 event(R"({"candidates":[{"content":{"parts":[{"text":"C"}]},"index":1,"finishReason":"MAX_TOKENS"}],
        "usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":3,"totalTokenCount":4}})"));
  ASSERT_FALSE(run.error);
  EXPECT_TRUE(run.complete);
  std::vector<std::string> seen;
  for (const auto& c : run.chunks) {
    if (c.at("choices").as_array().empty()) {
      seen.push_back("usage");
      continue;
    }
    const auto& choice = c.at("choices").at(0);
    auto text = json::serialize(choice.at("delta"));
    seen.push_back(std::to_string(choice.at("index").as_int64()) + text +
                   (choice.at("finish_reason").is_null() ? "" : json::serialize(choice.at("finish_reason"))));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{R"(0{"role":"assistant","content":""})", R"(0{"content":"A"})",
                                            R"(0{}"stop")", R"(1{"role":"assistant","content":""})",
                                            R"(1{"content":"B"})", R"(1{"content":"C"})", R"(1{}"length")", "usage"}));
}

TEST(GeminiWatcher, FollowsTheTextUntilAThoughtCallOrFinish) {
  auto w = codec().stream_watcher(kStream);
  ASSERT_FALSE(
      w->feed("data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hel\"}]}}]}\r\n\r\n"
              "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"lo\"}]}}]}\r\n\r\n"));
  EXPECT_EQ(w->progress().text, "Hello");
  EXPECT_TRUE(w->progress().continuable);
  ASSERT_FALSE(
      w->feed("data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"x\","
              "\"thought\":true}]}}]}\r\n\r\n"));
  EXPECT_FALSE(w->progress().continuable);
  auto done = codec().stream_watcher(kStream);
  ASSERT_FALSE(
      done->feed("data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"A\"}]},"
                 "\"finishReason\":\"STOP\"}]}\r\n\r\n"));
  EXPECT_FALSE(done->progress().continuable);
}
