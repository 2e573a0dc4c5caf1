#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "formats/ollama/provider.hpp"
#include "formats/ollama/provider_answer.hpp"
#include "stream_agreement.hpp"

using namespace anygpt;
using namespace anygpt::formats;
namespace json = boost::json;

namespace {

std::string fixture_text(const std::string& name) {
  std::ifstream in(std::string(ANYGPT_FIXTURES_DIR) + "/ollama/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json::value fixture(const std::string& name) {
  return json::parse(fixture_text(name));
}

const ProviderCodec& codec() {
  return ollama::provider_codec();
}

UpstreamCall chat_call(bool stream = false) {
  return UpstreamCall{Operation::kChat, "llama3.2:3b", stream, 4096};
}

UpstreamCall embed_call() {
  return UpstreamCall{Operation::kEmbeddings, "nomic-embed-text", false, 4096};
}

// The Ollama body for a canonical request (JSON text); a failed encode fails the test.
json::value encode(std::string_view canonical, const UpstreamCall& call = chat_call()) {
  auto r = codec().encode_request(json::parse(canonical).as_object(), call);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? json::parse(*r) : json::value();
}

core::Error encode_error(std::string_view canonical, const UpstreamCall& call = chat_call()) {
  auto r = codec().encode_request(json::parse(canonical).as_object(), call);
  EXPECT_FALSE(r.ok()) << canonical;
  return r.ok() ? core::Error{} : r.error();
}

// A minimal canonical chat request with `extra` fields (",\"key\":value..." text) appended.
std::string chat_with(std::string_view extra, std::string_view messages = R"([{"role":"user","content":"hi"}])") {
  return R"({"model":"m","messages":)" + std::string(messages) + std::string(extra) + "}";
}

json::value answer(std::string_view body, const UpstreamCall& call = chat_call()) {
  auto r = codec().decode_answer(body, call);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? json::value(*r) : json::value();
}

core::Error answer_error(std::string_view body, const UpstreamCall& call = chat_call()) {
  auto r = codec().decode_answer(body, call);
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? core::Error{} : r.error();
}

json::value chunks_value(const std::vector<json::object>& chunks) {
  json::array out;
  for (const auto& c : chunks) out.push_back(c);
  return out;
}

// What a fresh decoder made of a body: its chunks, its error, whether it saw the end.
struct Fed {
  std::vector<json::object> chunks;
  std::optional<core::Error> error;
  bool complete = false;
};

// Feeds `bytes` in pieces of `piece` bytes (stopping at the first error). A whole body is also
// watched: the same-protocol watcher must agree with the decoder on it.
Fed feed(std::string_view bytes, std::size_t piece) {
  if (piece >= bytes.size()) agreement::expect_agreement(codec(), chat_call(true), bytes);
  auto d = codec().stream_decoder(chat_call(true));
  Fed out;
  for (std::size_t at = 0; at < bytes.size() && !out.error; at += piece)
    out.error = d->feed(bytes.substr(at, piece), out.chunks);
  out.complete = d->complete();
  return out;
}

Fed feed_whole(std::string_view bytes) {
  return feed(bytes, bytes.empty() ? 1 : bytes.size());
}

// A canonical chunk with `delta` (JSON text); model and created default to a stream whose lines
// carry neither.
json::object chunk(std::string_view delta, std::string_view finish = "", std::string_view model = "llama3.2:3b",
                   std::int64_t created = 0) {
  json::object choice{{"index", 0}, {"delta", json::parse(delta)}};
  choice["finish_reason"] = finish.empty() ? json::value(nullptr) : json::value(finish);
  return json::object{{"id", "chatcmpl-ollama"},
                      {"object", "chat.completion.chunk"},
                      {"created", created},
                      {"model", model},
                      {"choices", json::array{choice}}};
}

json::object usage_chunk(std::int64_t prompt, std::int64_t completion, std::string_view model = "llama3.2:3b",
                         std::int64_t created = 0) {
  return json::object{{"id", "chatcmpl-ollama"},
                      {"object", "chat.completion.chunk"},
                      {"created", created},
                      {"model", model},
                      {"choices", json::array{}},
                      {"usage", json::object{{"prompt_tokens", prompt},
                                             {"completion_tokens", completion},
                                             {"total_tokens", prompt + completion}}}};
}

const char* kRole = R"({"role":"assistant","content":""})";

}  // namespace

// ---------------------------------------------------------------- paths and errors

TEST(OllamaProvider, PathsPerOperation) {
  EXPECT_EQ(codec().path(chat_call()), "/api/chat");
  EXPECT_EQ(codec().path(chat_call(true)), "/api/chat");
  EXPECT_EQ(codec().path(embed_call()), "/api/embed");
}

TEST(OllamaProvider, ErrorMessageReadsTheErrorString) {
  EXPECT_EQ(codec().error_message(R"({"error":"model \"x\" not found, try pulling it first"})"),
            "model \"x\" not found, try pulling it first");
  EXPECT_EQ(codec().error_message(R"({"error":{"message":"nested"}})"), "");
  EXPECT_EQ(codec().error_message("not json"), "");
  EXPECT_EQ(codec().error_message(R"(["error"])"), "");
  EXPECT_EQ(codec().error_message(""), "");
}

// ---------------------------------------------------------------- chat requests

TEST(OllamaProviderRequest, FullFixture) {
  auto body = encode(fixture_text("provider_chat.canonical.json"), chat_call(true));
  EXPECT_EQ(body, fixture("provider_chat.ollama.json"));
}

TEST(OllamaProviderRequest, StreamIsAlwaysExplicitAndAbsentFieldsStayOut) {
  auto body = encode(chat_with(""), chat_call(false));
  EXPECT_EQ(body, json::parse(R"({"model":"llama3.2:3b","messages":[{"role":"user","content":"hi"}],"stream":false})"));
  body = encode(chat_with(R"(,"stream":false)"), chat_call(true));  // the call decides
  EXPECT_EQ(body.at("stream"), true);
}

TEST(OllamaProviderRequest, OptionsFromSamplingFields) {
  auto body = encode(chat_with(R"(,"max_tokens":12,"stop":["a","b"],"temperature":1,"seed":null,"top_p":null)"));
  EXPECT_EQ(body.at("options"), json::parse(R"({"temperature":1,"num_predict":12,"stop":["a","b"]})"));
  body = encode(chat_with(R"(,"max_completion_tokens":null,"max_tokens":5,"stop":[])"));
  EXPECT_EQ(body.at("options"), json::parse(R"({"num_predict":5})"));
  body = encode(chat_with(R"(,"stop":"")"));
  EXPECT_EQ(body.as_object().count("options"), 0u);
  body = encode(chat_with(R"(,"seed":3.0)"));
  EXPECT_EQ(body.at("options"), json::parse(R"({"seed":3})"));
}

TEST(OllamaProviderRequest, BadSamplingFieldsNameTheField) {
  for (auto [extra, param] :
       std::vector<std::pair<std::string, std::string>>{{R"(,"temperature":"hot")", "temperature"},
                                                        {R"(,"seed":1.5)", "seed"},
                                                        {R"(,"max_tokens":"9")", "max_tokens"},
                                                        {R"(,"stop":[1])", "stop"},
                                                        {R"(,"n":2)", "n"},
                                                        {R"(,"tools":{})", "tools"}}) {
    auto e = encode_error(chat_with(extra));
    EXPECT_EQ(e.kind, core::ErrorKind::kInvalidRequest) << extra;
    EXPECT_EQ(e.param, param) << extra;
  }
  EXPECT_EQ(encode(chat_with(R"(,"n":1)")).as_object().count("n"), 0u);
}

TEST(OllamaProviderRequest, ResponseFormatBecomesFormat) {
  EXPECT_EQ(encode(chat_with(R"(,"response_format":{"type":"json_object"})")).at("format"), "json");
  EXPECT_EQ(encode(chat_with(R"(,"response_format":{"type":"json_schema","json_schema":{"name":"x"}})")).at("format"),
            "json");
  EXPECT_EQ(encode(chat_with(R"(,"response_format":{"type":"text"})")).as_object().count("format"), 0u);
  auto e = encode_error(chat_with(R"(,"response_format":{"type":"grammar"})"));
  EXPECT_EQ(e.param, "response_format.type");
  e = encode_error(chat_with(R"(,"response_format":{"type":"json_schema","json_schema":{"schema":"x"}})"));
  EXPECT_EQ(e.param, "response_format.json_schema.schema");
}

TEST(OllamaProviderRequest, ToolChoiceNoneLeavesToolsOutOthersAreDropped) {
  std::string tools = R"(,"tools":[{"type":"function","function":{"name":"f","parameters":{}}}])";
  EXPECT_EQ(encode(chat_with(tools + R"(,"tool_choice":"none")")).as_object().count("tools"), 0u);
  auto body = encode(chat_with(tools + R"(,"tool_choice":"required")"));
  EXPECT_EQ(body.at("tools"), json::parse(tools.substr(9)));
  EXPECT_EQ(body.as_object().count("tool_choice"), 0u);
  body = encode(chat_with(tools + R"(,"tool_choice":{"type":"function","function":{"name":"f"}})"));
  EXPECT_EQ(body.at("tools").as_array().size(), 1u);
  EXPECT_EQ(encode(chat_with(R"(,"tools":[])")).as_object().count("tools"), 0u);
}

TEST(OllamaProviderRequest, ImagesMustBeBase64DataUrls) {
  auto body = encode(chat_with(
      "", R"([{"role":"user","content":[{"type":"image_url","image_url":"data:image/jpeg;base64,/9j/4AAQ"}]}])"));
  EXPECT_EQ(body.at("messages").at(0), json::parse(R"({"role":"user","content":"","images":["/9j/4AAQ"]})"));
  auto e = encode_error(chat_with(
      "",
      R"([{"role":"user","content":[{"type":"text","text":"x"},{"type":"image_url","image_url":{"url":"https://x/cat.png"}}]}])"));
  EXPECT_EQ(e.kind, core::ErrorKind::kInvalidRequest);
  EXPECT_EQ(e.param, "messages[0].content[1].image_url.url");
  EXPECT_NE(e.message.find("remote URL"), std::string::npos) << e.message;
  for (const char* url : {"data:image/png,rawbytes", "data:image/png;base64,", "data:;base64", "ftp://x"}) {
    e = encode_error(chat_with(
        "", std::string(R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":")") + url + R"("}}]}])"));
    EXPECT_EQ(e.param, "messages[0].content[0].image_url.url") << url;
  }
  e = encode_error(chat_with("", R"([{"role":"user","content":[{"type":"image_url","image_url":{}}]}])"));
  EXPECT_EQ(e.param, "messages[0].content[0].image_url.url");
  e = encode_error(chat_with("", R"([{"role":"user","content":[{"type":"image_url"}]}])"));
  EXPECT_EQ(e.param, "messages[0].content[0].image_url");
}

TEST(OllamaProviderRequest, OtherContentPartsAndRolesAreRefused) {
  auto e = encode_error(chat_with("", R"([{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}])"));
  EXPECT_EQ(e.param, "messages[0].content[0].type");
  e = encode_error(chat_with("", R"([{"role":"user","content":["text"]}])"));
  EXPECT_EQ(e.param, "messages[0].content[0]");
  e = encode_error(chat_with("", R"([{"role":"user","content":5}])"));
  EXPECT_EQ(e.param, "messages[0].content");
  e = encode_error(chat_with("", R"([{"role":"user","content":"a"},{"role":"function","name":"f","content":"x"}])"));
  EXPECT_EQ(e.param, "messages[1].role");
  e = encode_error(chat_with("", R"([{"content":"x"}])"));
  EXPECT_EQ(e.param, "messages[0].role");
  e = encode_error(chat_with("", R"([1])"));
  EXPECT_EQ(e.param, "messages[0]");
  for (const char* bad : {R"({"model":"m"})", R"({"model":"m","messages":[]})", R"({"model":"m","messages":{}})"})
    EXPECT_EQ(encode_error(bad).param, "messages") << bad;
}

TEST(OllamaProviderRequest, AssistantTurnsRefusalsAndToolResults) {
  auto body = encode(chat_with("", R"([{"role":"user","content":"q"},
      {"role":"assistant","content":null,"refusal":"I can't."},
      {"role":"assistant","content":[{"type":"refusal","refusal":"No."}]},
      {"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"not json"}}]},
      {"role":"tool","tool_call_id":"unknown","content":"r"},
      {"role":"tool","tool_call_id":"c1","content":"r1"}])"));
  const auto& m = body.at("messages").as_array();
  EXPECT_EQ(m[1], json::parse(R"({"role":"assistant","content":"I can't."})"));
  EXPECT_EQ(m[2], json::parse(R"({"role":"assistant","content":"No."})"));
  EXPECT_EQ(m[3], json::parse(R"({"role":"assistant","content":"",
      "tool_calls":[{"function":{"name":"f","arguments":{"_raw":"not json"}}}]})"));
  EXPECT_EQ(m[4], json::parse(R"({"role":"tool","content":"r"})"));  // no call with that id: no tool_name
  EXPECT_EQ(m[5], json::parse(R"({"role":"tool","content":"r1","tool_name":"f"})"));
  auto e =
      encode_error(chat_with("", R"([{"role":"assistant","content":"","tool_calls":[{"id":"c","function":{}}]}])"));
  EXPECT_EQ(e.param, "messages[0].tool_calls[0].function.name");
  e = encode_error(chat_with("", R"([{"role":"assistant","content":"","tool_calls":{}}])"));
  EXPECT_EQ(e.param, "messages[0].tool_calls");
  e = encode_error(
      chat_with("", R"([{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":[1]}}]}])"));
  EXPECT_EQ(e.param, "messages[0].tool_calls[0].function.arguments");
}

// ---------------------------------------------------------------- embeddings requests

TEST(OllamaProviderEmbed, RequestCarriesModelInputAndDimensions) {
  auto body = encode(R"({"model":"text-embedding-3-small","input":"hello","encoding_format":"base64","user":"u"})",
                     embed_call());
  EXPECT_EQ(body, json::parse(R"({"model":"nomic-embed-text","input":"hello"})"));
  body = encode(R"({"model":"x","input":["a","b"],"dimensions":256})", embed_call());
  EXPECT_EQ(body, json::parse(R"({"model":"nomic-embed-text","input":["a","b"],"dimensions":256})"));
  for (const char* bad : {R"({"input":[1,2,3]})", R"({"input":[[1,2]]})", R"({"input":[]})", R"({})",
                          R"({"input":null})", R"({"input":["a",2]})"})
    EXPECT_EQ(encode_error(bad, embed_call()).param, "input") << bad;
  EXPECT_EQ(encode_error(R"({"input":"a","dimensions":0})", embed_call()).param, "dimensions");
  EXPECT_EQ(encode_error(R"({"input":"a","dimensions":"8"})", embed_call()).param, "dimensions");
}

TEST(OllamaProviderEmbed, AnswerBecomesAnOpenAIList) {
  auto list = answer(R"({"model":"nomic-embed-text","embeddings":[[0.1,-0.2],[1,2.5]],"total_duration":14143917,
      "load_duration":1019500,"prompt_eval_count":8})",
                     embed_call());
  EXPECT_EQ(list, json::parse(R"({"object":"list","data":[
      {"object":"embedding","index":0,"embedding":[0.1,-0.2]},
      {"object":"embedding","index":1,"embedding":[1,2.5]}],
      "model":"nomic-embed-text","usage":{"prompt_tokens":8,"total_tokens":8}})"));
  list = answer(R"({"embeddings":[]})", embed_call());
  EXPECT_EQ(list.at("model"), "nomic-embed-text");
  EXPECT_EQ(list.at("usage"), json::parse(R"({"prompt_tokens":0,"total_tokens":0})"));
  for (const char* bad : {R"({"embeddings":[[0.1,"x"]]})", R"({"embeddings":[1]})", R"({"embeddings":{}})",
                          R"({"model":"m"})", "[]", "nope", R"({"error":"model not found"})"})
    EXPECT_EQ(answer_error(bad, embed_call()).kind, core::ErrorKind::kUpstreamError) << bad;
  EXPECT_NE(answer_error(R"({"error":"input too long"})", embed_call()).message.find("input too long"),
            std::string::npos);
}

// ---------------------------------------------------------------- chat answers

TEST(OllamaProviderAnswer, FixtureWithThinkingAndParallelToolCalls) {
  EXPECT_EQ(answer(fixture_text("provider_answer.ollama.json")), fixture("provider_answer.canonical.json"));
}

TEST(OllamaProviderAnswer, TextAnswerStopAndLength) {
  auto a = answer(R"({"model":"llama3.2","created_at":"2024-07-22T20:33:28.123648Z",
      "message":{"role":"assistant","content":"Hi!"},"done_reason":"stop","done":true,
      "prompt_eval_count":26,"eval_count":3})");
  EXPECT_EQ(a, json::parse(R"({"id":"chatcmpl-ollama","object":"chat.completion","created":1721680408,
      "model":"llama3.2","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}],
      "usage":{"prompt_tokens":26,"completion_tokens":3,"total_tokens":29}})"));
  a = answer(R"({"message":{"role":"assistant","content":"cut"},"done_reason":"length","done":true})");
  EXPECT_EQ(a.at("choices").at(0).at("finish_reason"), "length");
  EXPECT_EQ(a.at("model"), "llama3.2:3b");  // no model in the answer: the call's
  EXPECT_EQ(a.at("created"), 0);            // no created_at: 0, never a clock
  EXPECT_EQ(a.at("usage"), json::parse(R"({"prompt_tokens":0,"completion_tokens":0,"total_tokens":0})"));
  a = answer(R"({"message":{"role":"assistant","content":""},"done":true})");  // old servers: no done_reason
  EXPECT_EQ(a.at("choices").at(0).at("finish_reason"), "stop");
  EXPECT_EQ(a.at("choices").at(0).at("message").at("content"), "");
}

TEST(OllamaProviderAnswer, ToolCallsOnlyHaveNullContentAndUniqueIds) {
  auto a = answer(R"({"message":{"role":"assistant","content":"","tool_calls":[
      {"id":"call_1","function":{"name":"a","arguments":{"x":1}}},
      {"function":{"name":"b"}},
      {"id":"call_1","function":{"name":"c","arguments":"{\"y\":2}"}}]},"done_reason":"stop","done":true})");
  const auto& m = a.at("choices").at(0).at("message");
  EXPECT_TRUE(m.at("content").is_null());
  EXPECT_EQ(m.at("tool_calls"), json::parse(R"([
      {"id":"call_1","type":"function","function":{"name":"a","arguments":"{\"x\":1}"}},
      {"id":"call_2","type":"function","function":{"name":"b","arguments":"{}"}},
      {"id":"call_3","type":"function","function":{"name":"c","arguments":"{\"y\":2}"}}])"));
  EXPECT_EQ(a.at("choices").at(0).at("finish_reason"), "tool_calls");
}

TEST(OllamaProviderAnswer, NotAnAnswerIsAnUpstreamError) {
  for (const char* bad : {
           "",
           "not json",
           "[]",
           R"("x")",
           R"({"model":"m","done":true})",
           R"({"message":"hi","done":true})",
           R"({"message":{"content":"partial"},"done":false})",
           R"({"message":{"content":"partial"}})",
           R"({"message":{"role":"assistant","content":""},"done_reason":"load","done":true})",
           R"({"message":{"role":"assistant","content":""},"done_reason":"unload","done":true})",
           R"({"error":"model 'x' not found"})",
           R"({"message":{"content":"","tool_calls":[{"function":{"arguments":{}}}]},"done":true})",
           R"({"message":{"content":"","tool_calls":[{"function":{"name":"f","arguments":[1]}}]},"done":true})",
           R"({"message":{"content":"","tool_calls":{"function":{}}},"done":true})",
           "{\"message\":{\"content\":\"a\"},\"done\":true}\n{\"done\":true}\n",
       }) {
    auto e = answer_error(bad);
    EXPECT_EQ(e.kind, core::ErrorKind::kUpstreamError) << bad;
    EXPECT_FALSE(e.message.empty());
  }
  EXPECT_NE(
      answer_error(R"({"message":{"content":""},"done_reason":"load","done":true})").message.find("not an answer"),
      std::string::npos);
  EXPECT_NE(answer_error(R"({"error":"model 'x' not found"})").message.find("model 'x' not found"), std::string::npos);
}

TEST(OllamaProviderAnswer, CreatedAtParsing) {
  EXPECT_EQ(ollama::created_seconds("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ollama::created_seconds("2024-01-01T00:00:00.123Z"), 1704067200);
  EXPECT_EQ(ollama::created_seconds("2023-08-04T08:52:19.385406455-07:00"), 1691164339);
  EXPECT_EQ(ollama::created_seconds("2023-08-04T17:52:19+02:00"), 1691164339);
  EXPECT_EQ(ollama::created_seconds("2000-02-29T12:00:00z"), 951825600);
  for (const char* bad : {"", "2024-01-01", "2024-01-01T00:00:00", "2024-13-01T00:00:00Z", "2024-01-01 00:00:00Z",
                          "2024-01-01T00:00:00+0100", "2024-01-01T00:00:00Zjunk", "yyyy-01-01T00:00:00Z",
                          "2024-01-01T25:00:00Z", "2024-01-01T00:00:00.Z5"})
    EXPECT_EQ(ollama::created_seconds(bad), 0) << bad;
}

// ---------------------------------------------------------------- streams

TEST(OllamaProviderStream, VendorSequenceWhole) {
  auto fed = feed_whole(fixture_text("provider_stream.ndjson"));
  ASSERT_FALSE(fed.error) << fed.error->message;
  EXPECT_TRUE(fed.complete);
  EXPECT_EQ(chunks_value(fed.chunks), fixture("provider_stream.chunks.json"));
}

TEST(OllamaProviderStream, EverySplitGivesTheSameChunks) {
  auto text = fixture_text("provider_stream.ndjson");
  auto expected = fixture("provider_stream.chunks.json");
  for (std::size_t cut = 1; cut < text.size(); ++cut) {
    auto d = codec().stream_decoder(chat_call(true));
    std::vector<json::object> chunks;
    ASSERT_FALSE(d->feed(std::string_view(text).substr(0, cut), chunks)) << cut;
    ASSERT_FALSE(d->feed(std::string_view(text).substr(cut), chunks)) << cut;
    ASSERT_TRUE(d->complete()) << cut;
    ASSERT_EQ(chunks_value(chunks), expected) << "cut at " << cut;
  }
  auto bytewise = feed(text, 1);
  ASSERT_FALSE(bytewise.error);
  EXPECT_TRUE(bytewise.complete);
  EXPECT_EQ(chunks_value(bytewise.chunks), expected);
}

// Each line's chunks come out with its closing brace: never held for the newline or the next line.
TEST(OllamaProviderStream, ChunksLeaveAsSoonAsTheirLineIsComplete) {
  auto text = fixture_text("provider_stream.ndjson");
  const std::vector<std::size_t> per_line{2, 1, 1, 1, 4, 2};  // the role chunk comes with the first line
  auto d = codec().stream_decoder(chat_call(true));
  std::vector<json::object> chunks;
  std::size_t line = 0;
  std::size_t expected = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    ASSERT_FALSE(d->feed(std::string_view(text).substr(i, 1), chunks));
    bool closes_line = i + 1 < text.size() && text[i + 1] == '\n';
    if (closes_line) expected += per_line[line++];
    ASSERT_EQ(chunks.size(), expected) << "after byte " << i;
    EXPECT_EQ(d->complete(), line == per_line.size()) << "after byte " << i;
  }
  EXPECT_EQ(line, per_line.size());
}

TEST(OllamaProviderStream, CutBeforeTheDoneLineIsIncomplete) {
  auto text = fixture_text("provider_stream.ndjson");
  auto last = text.rfind("{\"model\"");
  auto fed = feed(text.substr(0, last + 20), 7);
  EXPECT_FALSE(fed.error);
  EXPECT_FALSE(fed.complete);
  EXPECT_EQ(fed.chunks.size(), 9u);  // no finish, no usage
  EXPECT_FALSE(feed_whole("").complete);
}

TEST(OllamaProviderStream, ErrorLineEndsTheStream) {
  std::string text =
      R"({"model":"m","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"Hel"},"done":false})"
      "\n"
      R"({"error":"an error was encountered while running the model: unexpected EOF"})"
      "\n";
  for (std::size_t piece : {std::size_t{1}, std::size_t{5}, text.size()}) {
    auto fed = feed(text, piece);
    ASSERT_TRUE(fed.error) << piece;
    EXPECT_EQ(fed.error->kind, core::ErrorKind::kUpstreamError);
    EXPECT_NE(fed.error->message.find("unexpected EOF"), std::string::npos) << fed.error->message;
    EXPECT_FALSE(fed.complete);
    ASSERT_EQ(fed.chunks.size(), 2u);  // what came before the error was delivered
    EXPECT_EQ(fed.chunks[1], chunk(R"({"content":"Hel"})", "", "m", 1704067200));
  }
  auto fed = feed_whole("{\"error\":\"model requires more system memory\"}\n");
  ASSERT_TRUE(fed.error);
  EXPECT_TRUE(fed.chunks.empty());
}

TEST(OllamaProviderStream, MalformedLinesAreUpstreamErrors) {
  for (const char* bad : {"{\"message\":{\"content\":\"a\"}\n}x\n", "{\"a\":tru}\n", "[1]\n", "\"text\"\n", "42\n",
                          "{\"message\":{\"tool_calls\":[{\"function\":{}}]},\"done\":false}\n",
                          "{\"message\":{\"content\":\"\"},\"done_reason\":\"load\",\"done\":true}\n"}) {
    auto fed = feed_whole(bad);
    ASSERT_TRUE(fed.error) << bad;
    EXPECT_EQ(fed.error->kind, core::ErrorKind::kUpstreamError) << bad;
    EXPECT_FALSE(fed.complete) << bad;
  }
}

TEST(OllamaProviderStream, OddLinesUnknownFieldsAndLineEndings) {
  std::string text =
      "{\"model\":\"m\",\"done\":false}\r\n"
      "\n"
      "{\"message\":{\"role\":\"assistant\",\"content\":\"\",\"images\":null,\"extra\":{\"x\":1}},\"context\":[1,2],"
      "\"done\":false}\r\n"
      "{\"message\":\"not an object\",\"done\":false}\n"
      "{\"message\":{\"content\":\"last words\"},\"done_reason\":\"length\",\"done\":true,\"eval_count\":4}\n"
      "{\"message\":{\"content\":\"after the end\"},\"done\":false}\n";
  auto expected = chunks_value({chunk(kRole, "", "m"), chunk(R"({"content":"last words"})", "", "m"),
                                chunk("{}", "length", "m"), usage_chunk(0, 4, "m")});
  for (std::size_t piece : {std::size_t{1}, std::size_t{3}, text.size()}) {
    auto fed = feed(text, piece);
    ASSERT_FALSE(fed.error) << fed.error->message;
    EXPECT_TRUE(fed.complete);
    EXPECT_EQ(chunks_value(fed.chunks), expected) << piece;
  }
}

TEST(OllamaProviderStream, DoneLineWithoutNewlineStillCompletes) {
  auto fed = feed_whole(R"({"message":{"content":"ok"},"done":false}{"message":{"content":""},"done":true})");
  ASSERT_FALSE(fed.error);
  EXPECT_TRUE(fed.complete);
  EXPECT_EQ(chunks_value(fed.chunks),
            chunks_value({chunk(kRole), chunk(R"({"content":"ok"})"), chunk("{}", "stop"), usage_chunk(0, 0)}));
}

TEST(OllamaProviderStream, ToolCallsAcrossLinesGetIndexesAndUniqueIds) {
  std::string text =
      "{\"message\":{\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"a\",\"arguments\":{}}}]},"
      "\"done\":false}\n"
      "{\"message\":{\"content\":\"\",\"tool_calls\":[{\"id\":\"call_0\",\"function\":{\"name\":\"b\",\"arguments\":"
      "{\"deep\":[{\"k\":\"v\"}]}}}]},\"done\":false}\n"
      "{\"message\":{\"content\":\"\"},\"done_reason\":\"stop\",\"done\":true,\"prompt_eval_count\":10,\"eval_count\":"
      "5}\n";
  auto fed = feed(text, 2);
  ASSERT_FALSE(fed.error) << fed.error->message;
  EXPECT_EQ(
      chunks_value(fed.chunks),
      chunks_value(
          {chunk(kRole),
           chunk(
               R"({"tool_calls":[{"index":0,"id":"call_0","type":"function","function":{"name":"a","arguments":""}}]})"),
           chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]})"),
           chunk(
               R"({"tool_calls":[{"index":1,"id":"call_1","type":"function","function":{"name":"b","arguments":""}}]})"),
           chunk(R"({"tool_calls":[{"index":1,"function":{"arguments":"{\"deep\":[{\"k\":\"v\"}]}"}}]})"),
           chunk("{}", "tool_calls"), usage_chunk(10, 5)}));
}

TEST(OllamaProviderStream, ThinkingAndContentInOneLineAndPlainStop) {
  auto fed = feed_whole(
      "{\"model\":\"qwen3\",\"created_at\":\"2025-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\","
      "\"content\":\"A\",\"thinking\":\"T\"},\"done\":false}\n"
      "{\"model\":\"other\",\"created_at\":\"2026-01-01T00:00:00Z\",\"message\":{\"content\":\"\"},\"done_reason\":"
      "\"stop\",\"done\":true,\"prompt_eval_count\":3,\"eval_count\":2}\n");
  ASSERT_FALSE(fed.error);
  const std::int64_t t = 1735689600;  // created and model stay those of the first line
  EXPECT_EQ(chunks_value(fed.chunks), chunks_value({chunk(kRole, "", "qwen3", t),
                                                    chunk(R"({"reasoning_content":"T","content":"A"})", "", "qwen3", t),
                                                    chunk("{}", "stop", "qwen3", t), usage_chunk(3, 2, "qwen3", t)}));
}

TEST(OllamaProviderStream, LoadAfterContentIsStillTheEnd) {
  auto fed = feed_whole(
      "{\"message\":{\"content\":\"x\"},\"done\":false}\n{\"message\":{\"content\":\"\"},\"done_reason\":\"load\","
      "\"done\":true}\n");
  ASSERT_FALSE(fed.error);
  EXPECT_TRUE(fed.complete);
  EXPECT_EQ(fed.chunks[2], chunk("{}", "stop"));
}

TEST(OllamaWatcher, FollowsTheTextUntilThinkingToolsOrDone) {
  auto w = codec().stream_watcher(chat_call(true));
  ASSERT_FALSE(
      w->feed("{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"done\":false}\n"
              "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"lo\"},\"done\":false}\n"));
  EXPECT_EQ(w->progress().text, "Hello");
  EXPECT_TRUE(w->progress().continuable);
  ASSERT_FALSE(w->feed(
      "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"hm\"},\"done\":false}\n"));
  EXPECT_FALSE(w->progress().continuable);
}
