// The "openai-responses" provider protocol: a host serving the Responses API itself, whose
// answers and streams go to /v1/responses clients untouched while anygpt reads usage, errors and
// the end from them.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "formats/responses/provider.hpp"
#include "formats/responses/responses.hpp"

using namespace anygpt;
using namespace anygpt::formats;
namespace json = boost::json;
namespace rs = anygpt::formats::responses;
using core::ErrorKind;

namespace {

const UpstreamCall kCall{Operation::kChat, "gpt-native", true, 4096};

// A Responses stream as OpenAI sends it: text "Hello" in two deltas, usage 5 + 2.
const std::string kTextStream =
    "event: response.created\n"
    R"(data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[],"usage":null}})"
    "\n\n"
    "event: response.in_progress\n"
    R"(data: {"type":"response.in_progress","sequence_number":1,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[],"usage":null}})"
    "\n\n"
    "event: response.output_item.added\n"
    R"(data: {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"msg_1","type":"message","status":"in_progress","role":"assistant","content":[]}})"
    "\n\n"
    "event: response.content_part.added\n"
    R"(data: {"type":"response.content_part.added","sequence_number":3,"item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"output_text","text":"","annotations":[]}})"
    "\n\n"
    "event: response.output_text.delta\n"
    R"(data: {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hél","logprobs":[]})"
    "\n\n"
    "event: response.output_text.delta\n"
    R"(data: {"type":"response.output_text.delta","sequence_number":5,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"lo","logprobs":[]})"
    "\n\n"
    "event: response.output_text.done\n"
    R"(data: {"type":"response.output_text.done","sequence_number":6,"item_id":"msg_1","output_index":0,"content_index":0,"text":"Héllo","logprobs":[]})"
    "\n\n"
    "event: response.output_item.done\n"
    R"(data: {"type":"response.output_item.done","sequence_number":7,"output_index":0,"item":{"id":"msg_1","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Héllo","annotations":[]}]}})"
    "\n\n"
    "event: response.completed\n"
    R"(data: {"type":"response.completed","sequence_number":8,"response":{"id":"resp_1","object":"response","status":"completed","output":[],"usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":0},"output_tokens":2,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":7}}})"
    "\n\n";

struct Watched {
  std::optional<core::Error> error;
  bool complete = false;
  core::Usage usage;
  std::size_t chars = 0;
};

// Feeds `stream` in pieces of `step` bytes (0: whole).
Watched watch(std::string_view stream, std::size_t step = 0) {
  auto w = rs::provider_codec().stream_watcher(kCall);
  Watched out;
  if (step == 0) step = stream.size();
  for (std::size_t at = 0; at < stream.size() && !out.error; at += step) out.error = w->feed(stream.substr(at, step));
  out.complete = w->complete();
  out.usage = w->usage();
  out.chars = w->delivered_chars();
  return out;
}

std::string event(std::string_view type, std::string_view data) {
  std::string out = "event: ";
  out += type;
  out += "\ndata: ";
  out += data;
  out += "\n\n";
  return out;
}

}  // namespace

TEST(ResponsesProvider, PathsAndRefusalOfChat) {
  const auto& codec = rs::provider_codec();
  EXPECT_EQ(codec.path(kCall), "/responses");
  EXPECT_EQ(codec.path(UpstreamCall{Operation::kEmbeddings, "e", false, 0}), "/embeddings");
  auto chat = json::parse(R"({"model":"gpt-native","messages":[{"role":"user","content":"hi"}]})").as_object();
  auto refused = codec.encode_request(chat, kCall);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kInvalidRequest);
  EXPECT_EQ(refused.error().code, "responses_only");
  EXPECT_NE(refused.error().message.find("POST /v1/responses"), std::string::npos);
  EXPECT_FALSE(codec.decode_answer("{}", kCall).ok());
  std::vector<json::object> chunks;
  EXPECT_TRUE(codec.stream_decoder(kCall)->feed("data: {}\n\n", chunks).has_value());
}

TEST(ResponsesProvider, AnswerUsageAndErrorMessage) {
  const auto& codec = rs::provider_codec();
  auto usage = codec.answer_usage(
      R"({"id":"resp_1","object":"response","output":[],"usage":{"input_tokens":4,"output_tokens":16,"total_tokens":20}})",
      kCall);
  ASSERT_TRUE(usage);
  EXPECT_TRUE(usage->present);
  EXPECT_EQ(usage->prompt_tokens, 4);
  EXPECT_EQ(usage->completion_tokens, 16);
  EXPECT_EQ(usage->total_tokens, 20);
  EXPECT_FALSE(codec.answer_usage("not json", kCall));
  EXPECT_FALSE(codec.answer_usage(R"({"id":"resp_1","usage":null})", kCall)->present);
  EXPECT_EQ(
      codec.error_message(R"({"error":{"message":"Invalid 'max_output_tokens'","type":"invalid_request_error"}})"),
      "Invalid 'max_output_tokens'");
  EXPECT_EQ(codec.error_message("<html>"), "");
}

TEST(ResponsesWatcher, ACompleteStreamWholeSplitAtEveryByteAndByteByByte) {
  for (std::size_t step : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{64}}) {
    auto w = watch(kTextStream, step);
    EXPECT_FALSE(w.error) << step << ": " << w.error->message;
    EXPECT_TRUE(w.complete) << step;
    EXPECT_TRUE(w.usage.present);
    EXPECT_EQ(w.usage.prompt_tokens, 5);
    EXPECT_EQ(w.usage.completion_tokens, 2);
    EXPECT_EQ(w.usage.total_tokens, 7);
    EXPECT_EQ(w.chars, 5u) << "only deltas count, in code points";
  }
  for (std::size_t cut = 1; cut < kTextStream.size(); ++cut) {
    auto wt = rs::provider_codec().stream_watcher(kCall);
    ASSERT_FALSE(wt->feed(std::string_view(kTextStream).substr(0, cut)));
    ASSERT_FALSE(wt->feed(std::string_view(kTextStream).substr(cut)));
    ASSERT_TRUE(wt->complete()) << cut;
    ASSERT_EQ(wt->usage().total_tokens, 7) << cut;
  }
}

TEST(ResponsesWatcher, IncompleteIsAnEndToo) {
  auto stream =
      event("response.created", R"({"type":"response.created","response":{"id":"r"}})") +
      event(
          "response.incomplete",
          R"({"type":"response.incomplete","response":{"status":"incomplete","usage":{"input_tokens":1,"output_tokens":16,"total_tokens":17}}})");
  auto w = watch(stream);
  EXPECT_FALSE(w.error);
  EXPECT_TRUE(w.complete);
  EXPECT_EQ(w.usage.total_tokens, 17);
}

TEST(ResponsesWatcher, ACutStreamIsNotComplete) {
  auto w = watch(std::string_view(kTextStream).substr(0, kTextStream.find("event: response.completed")));
  EXPECT_FALSE(w.error);
  EXPECT_FALSE(w.complete);
  EXPECT_FALSE(w.usage.present) << "no usage before the end";
  EXPECT_EQ(w.chars, 5u);
}

TEST(ResponsesWatcher, InBandFailures) {
  auto failed = watch(
      event("response.created", R"({"type":"response.created","response":{}})") +
      event(
          "response.failed",
          R"({"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"boom"}}})"));
  ASSERT_TRUE(failed.error);
  EXPECT_EQ(failed.error->kind, ErrorKind::kUpstreamError);
  EXPECT_NE(failed.error->message.find("boom"), std::string::npos);
  auto limited =
      watch(event("error", R"({"type":"error","code":"rate_limit_exceeded","message":"slow down","param":null})"));
  ASSERT_TRUE(limited.error);
  EXPECT_EQ(limited.error->kind, ErrorKind::kUpstreamUnavailable);
  EXPECT_NE(limited.error->message.find("slow down"), std::string::npos);
  auto malformed = watch(event("response.output_text.delta", "{this is not json"));
  ASSERT_TRUE(malformed.error);
  EXPECT_NE(malformed.error->message.find("malformed"), std::string::npos);
  auto bad_lifecycle = watch(event("response.completed", "[1]"));
  ASSERT_TRUE(bad_lifecycle.error);
}

TEST(ResponsesWatcher, DoneLinesCommentsAndLateEventsAreIgnored) {
  auto stream = ": keep-alive\n\n" + kTextStream + "data: [DONE]\n\n" + event("error", "{this is not json");
  auto w = watch(stream);
  EXPECT_FALSE(w.error);
  EXPECT_TRUE(w.complete);
  EXPECT_EQ(w.usage.total_tokens, 7);
}

TEST(ResponsesWatcher, EventsWithoutAnEventLineAreReadByTheirType) {
  std::string stream =
      R"(data: {"type":"response.output_text.delta","delta":"abc"})"
      "\n\n"
      R"(data: {"type":"response.completed","response":{"usage":{"input_tokens":1,"output_tokens":1,"total_tokens":2}}})"
      "\n\n";
  auto w = watch(stream);
  EXPECT_FALSE(w.error);
  EXPECT_TRUE(w.complete);
  EXPECT_EQ(w.chars, 3u);
  EXPECT_EQ(w.usage.total_tokens, 2);
}

// anygpt's own Responses stream (a translated answer) reads as the same answer to the watcher.
TEST(ResponsesWatcher, AgreesWithTheStreamEncoder) {
  auto enc = rs::codec().stream(AnswerContext{"m", "req1", false});
  std::string out;
  enc->chunk(json::parse(R"({"choices":[{"index":0,"delta":{"content":"Héllo"}}]})").as_object(), Moment{}, out);
  enc->chunk(
      json::parse(
          R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{}"}}]}}]})")
          .as_object(),
      Moment{}, out);
  enc->finish(core::Usage{3, 4, 7, true}, Moment{}, out);
  auto w = watch(out, 3);
  EXPECT_FALSE(w.error);
  EXPECT_TRUE(w.complete);
  EXPECT_EQ(w.usage.prompt_tokens, 3);
  EXPECT_EQ(w.usage.completion_tokens, 4);
  EXPECT_EQ(w.chars, 7u);  // "Héllo" + "{}"
  std::string failed;
  auto enc2 = rs::codec().stream(AnswerContext{"m", "req1", false});
  enc2->chunk(json::parse(R"({"choices":[{"index":0,"delta":{"content":"x"}}]})").as_object(), Moment{}, failed);
  enc2->fail(core::make_error(ErrorKind::kUpstreamError, "cut"), failed);
  EXPECT_TRUE(watch(failed).error);
}
