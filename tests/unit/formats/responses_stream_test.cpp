// The Responses API stream encoder: canonical chat chunks in, Responses SSE events out, checked
// the way the openai SDK's ResponseStream accumulates them.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "formats/responses/responses.hpp"
#include "sse_events.hpp"

using namespace anygpt;
using namespace anygpt::formats;
namespace json = boost::json;
namespace rs = anygpt::formats::responses;
using core::ErrorKind;

namespace {

using Event = format_tests::SseEvent;
const auto& events = format_tests::sse_events;
const auto& types = format_tests::sse_types;

// What the SDK's ResponseStream builds from the events, checking on the way what it checks
// (an output item and content part at every index an event names, of the right type) and what
// it relies on: sequence numbers counting from 0, item ids matching, *.done texts equal to the
// deltas, nothing for an item after its output_item.done, nothing after the terminal event but
// an `error` after response.failed.
struct Accumulated {
  json::object snapshot;     // the response as the events built it
  json::object final;        // the terminal event's response (empty when none)
  std::string terminal;      // its type
  bool error_event = false;  // an `error` event came
};

Accumulated accumulate(const std::vector<Event>& evs) {
  Accumulated acc;
  std::set<std::int64_t> closed;
  std::int64_t expected_seq = 0;
  for (const auto& e : evs) {
    const auto& d = e.data.as_object();
    EXPECT_EQ(d.at("sequence_number").as_int64(), expected_seq++) << e.type;
    if (e.type == "error") {
      acc.error_event = true;
      EXPECT_TRUE(acc.terminal.empty() || acc.terminal == "response.failed");
      EXPECT_TRUE(d.at("message").is_string());
      EXPECT_TRUE(d.contains("code") && d.contains("param"));
      continue;
    }
    EXPECT_TRUE(acc.terminal.empty()) << e.type << " after " << acc.terminal;
    EXPECT_FALSE(acc.error_event) << e.type << " after an error event";
    if (e.type == "response.created") {
      EXPECT_TRUE(acc.snapshot.empty()) << "second response.created";
      acc.snapshot = d.at("response").as_object();
      EXPECT_EQ(acc.snapshot.at("status"), json::value("in_progress"));
      continue;
    }
    EXPECT_FALSE(acc.snapshot.empty()) << "expected response.created first, got " << e.type;
    if (acc.snapshot.empty()) return acc;
    auto& output = acc.snapshot["output"].as_array();
    if (e.type == "response.in_progress") continue;
    if (e.type == "response.completed" || e.type == "response.incomplete" || e.type == "response.failed") {
      acc.terminal = e.type;
      acc.final = d.at("response").as_object();
      continue;
    }
    auto oi = d.at("output_index").as_int64();
    EXPECT_EQ(closed.count(oi), 0u) << e.type << " for closed item " << oi;
    if (e.type == "response.output_item.added") {
      EXPECT_EQ(oi, static_cast<std::int64_t>(output.size()));
      EXPECT_EQ(d.at("item").at("status"), json::value("in_progress"));
      output.push_back(d.at("item"));
      continue;
    }
    EXPECT_LT(oi, static_cast<std::int64_t>(output.size())) << "missing output at index " << oi;
    if (oi >= static_cast<std::int64_t>(output.size())) return acc;
    auto& item = output[oi].as_object();
    if (e.type == "response.output_item.done") {
      EXPECT_EQ(d.at("item").at("id"), item.at("id"));
      auto done = d.at("item").as_object();
      EXPECT_NE(done.at("status"), json::value("in_progress"));
      auto expect = item;
      expect["status"] = done.at("status");
      EXPECT_EQ(json::value(done), json::value(expect)) << "output_item.done differs from its events";
      item = done;
      closed.insert(oi);
      continue;
    }
    EXPECT_EQ(d.at("item_id"), item.at("id")) << e.type;
    if (e.type.rfind("response.function_call_arguments.", 0) == 0) {
      EXPECT_EQ(item.at("type"), json::value("function_call"));
      std::string args(item.at("arguments").as_string());
      if (e.type.ends_with(".delta")) {
        EXPECT_FALSE(d.at("delta").as_string().empty()) << "empty arguments delta";
        item["arguments"] = args + std::string(d.at("delta").as_string());
      } else {
        EXPECT_EQ(d.at("arguments"), json::value(args));
        EXPECT_EQ(d.at("name"), item.at("name"));
      }
      continue;
    }
    EXPECT_EQ(item.at("type"), json::value("message")) << e.type;
    auto& content = item["content"].as_array();
    auto ci = d.at("content_index").as_int64();
    if (e.type == "response.content_part.added") {
      EXPECT_EQ(ci, static_cast<std::int64_t>(content.size()));
      content.push_back(d.at("part"));
      continue;
    }
    EXPECT_LT(ci, static_cast<std::int64_t>(content.size())) << "missing content at index " << ci;
    if (ci >= static_cast<std::int64_t>(content.size())) return acc;
    auto& part = content[ci].as_object();
    if (e.type == "response.output_text.delta" || e.type == "response.output_text.done") {
      EXPECT_EQ(part.at("type"), json::value("output_text"));
      EXPECT_TRUE(d.at("logprobs").is_array());
      if (e.type.ends_with(".delta")) {
        EXPECT_FALSE(d.at("delta").as_string().empty()) << "empty text delta";
        part["text"] = std::string(part.at("text").as_string()) + std::string(d.at("delta").as_string());
      } else {
        EXPECT_EQ(d.at("text"), part.at("text"));
      }
    } else if (e.type == "response.refusal.delta" || e.type == "response.refusal.done") {
      EXPECT_EQ(part.at("type"), json::value("refusal"));
      if (e.type.ends_with(".delta"))
        part["refusal"] = std::string(part.at("refusal").as_string()) + std::string(d.at("delta").as_string());
      else
        EXPECT_EQ(d.at("refusal"), part.at("refusal"));
    } else if (e.type == "response.content_part.done") {
      EXPECT_EQ(d.at("part"), json::value(part));
    } else {
      ADD_FAILURE() << "unexpected event " << e.type;
    }
  }
  return acc;
}

AnswerContext ctx(const json::value* request = nullptr) {
  return AnswerContext{"gpt-test", "req1", false, false, request};
}

// Feeds chunks one at a time, keeping what each one produced.
struct StreamRun {
  explicit StreamRun(const json::value* request = nullptr) : enc(rs::codec().stream(ctx(request))) {}
  std::unique_ptr<StreamEncoder> enc;
  std::string all;
  std::string feed(std::string_view chunk_json) {
    std::string out;
    enc->chunk(json::parse(chunk_json).as_object(), Moment{1718000123456, 0}, out);
    all += out;
    return out;
  }
  std::string finish(std::int64_t prompt, std::int64_t completion) {
    std::string out;
    enc->finish(core::Usage{prompt, completion, prompt + completion, true}, Moment{1718000123456, 0}, out);
    all += out;
    return out;
  }
  std::string fail(ErrorKind kind = ErrorKind::kUpstreamError) {
    std::string out;
    enc->fail(core::make_error(kind, "Provider 'p' stream failed after it started: cut"), out);
    all += out;
    return out;
  }
};

std::string text_chunk(std::string_view text) {
  return R"({"id":"c","created":1718000000,"choices":[{"index":0,"delta":{"content":)" +
         json::serialize(json::value(text)) + "}}]}";
}

const char* kFinishStop = R"({"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})";

}  // namespace

TEST(ResponsesStream, TextStreamInTheApisOrder) {
  StreamRun run;
  auto first = events(
      run.feed(R"({"id":"c","created":1718000000,"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})"));
  EXPECT_EQ(types(first), (std::vector<std::string>{"response.created", "response.in_progress"}));
  EXPECT_EQ(first[0].data.at("response").at("created_at"), json::value(1718000000));
  EXPECT_EQ(first[0].data.at("response").at("id"), json::value("resp_req1"));
  run.feed(text_chunk("Hel"));
  run.feed(text_chunk("lo"));
  run.feed(kFinishStop);
  run.feed(R"({"id":"c","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7,
              "prompt_tokens_details":{"cached_tokens":1}}})");
  run.finish(5, 2);
  auto evs = events(run.all);
  EXPECT_EQ(types(evs),
            (std::vector<std::string>{
                "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
                "response.content_part.done", "response.output_item.done", "response.completed"}));
  auto acc = accumulate(evs);
  EXPECT_EQ(acc.terminal, "response.completed");
  EXPECT_EQ(acc.final.at("status"), json::value("completed"));
  EXPECT_EQ(acc.final.at("output"), acc.snapshot.at("output"));
  EXPECT_EQ(acc.final.at("output"),
            json::parse(R"([{"id":"msg_req1","type":"message","status":"completed","role":"assistant",
    "content":[{"type":"output_text","text":"Hello","annotations":[],"logprobs":[]}]}])"));
  EXPECT_EQ(acc.final.at("usage"), json::parse(R"({"input_tokens":5,"input_tokens_details":{"cached_tokens":1},
    "output_tokens":2,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":7})"));
  EXPECT_EQ(evs[4].data, json::parse(R"({"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_req1",
    "output_index":0,"content_index":0,"delta":"Hel","logprobs":[]})"));
}

TEST(ResponsesStream, DeltasGoOutAsTheyArrive) {
  StreamRun run;
  run.feed(text_chunk(""));
  auto out = events(run.feed(text_chunk("a")));
  EXPECT_EQ(types(out), (std::vector<std::string>{"response.output_item.added", "response.content_part.added",
                                                  "response.output_text.delta"}));
  EXPECT_EQ(types(events(run.feed(text_chunk("b")))), (std::vector<std::string>{"response.output_text.delta"}));
  EXPECT_TRUE(run.feed(R"({"id":"c","choices":[{"index":0,"delta":{}}]})").empty());
}

TEST(ResponsesStream, ToolCallsAfterText) {
  StreamRun run;
  run.feed(text_chunk("Let me check."));
  run.feed(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function",
              "function":{"name":"get_weather","arguments":""}}]}}]})");
  run.feed(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"loc"}}]}}]})");
  run.feed(
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ation\":\"Paris\"}"}}]}}]})");
  run.feed(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function",
              "function":{"name":"get_time","arguments":"{}"}}]}}]})");
  run.feed(R"({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})");
  run.finish(10, 20);
  auto evs = events(run.all);
  EXPECT_EQ(types(evs),
            (std::vector<std::string>{
                "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                "response.output_text.delta", "response.output_text.done", "response.content_part.done",
                "response.output_item.done", "response.output_item.added", "response.function_call_arguments.delta",
                "response.function_call_arguments.delta", "response.output_item.added",
                "response.function_call_arguments.delta", "response.function_call_arguments.done",
                "response.output_item.done", "response.function_call_arguments.done", "response.output_item.done",
                "response.completed"}));
  auto acc = accumulate(evs);
  EXPECT_EQ(acc.final.at("output"), acc.snapshot.at("output"));
  EXPECT_EQ(acc.final.at("output").at(1), json::parse(R"({"id":"fc_req1_0","type":"function_call","status":"completed",
    "arguments":"{\"location\":\"Paris\"}","call_id":"call_a","name":"get_weather"})"));
  EXPECT_EQ(acc.final.at("output").at(2), json::parse(R"({"id":"fc_req1_1","type":"function_call","status":"completed",
    "arguments":"{}","call_id":"call_b","name":"get_time"})"));
  EXPECT_EQ(acc.final.at("status"), json::value("completed"));
  EXPECT_EQ(evs[8].data.at("item"), json::parse(R"({"id":"fc_req1_0","type":"function_call","status":"in_progress",
    "arguments":"","call_id":"call_a","name":"get_weather"})"));
}

TEST(ResponsesStream, InterleavedParallelCallsKeepTheirOwnItems) {
  StreamRun run;
  run.feed(
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{\"x\":"}},
                                                             {"index":1,"id":"b","function":{"name":"g","arguments":"{\"y\":"}}]}}]})");
  run.feed(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"2}"}},
                                                             {"index":0,"function":{"arguments":"1}"}}]}}]})");
  run.feed(R"({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})");
  run.finish(1, 1);
  auto acc = accumulate(events(run.all));
  ASSERT_EQ(acc.final.at("output").as_array().size(), 2u);
  EXPECT_EQ(acc.final.at("output").at(0).at("arguments"), json::value("{\"x\":1}"));
  EXPECT_EQ(acc.final.at("output").at(1).at("arguments"), json::value("{\"y\":2}"));
}

TEST(ResponsesStream, ANameThatComesLateHoldsTheCallBack) {
  StreamRun run;
  run.feed(
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a","function":{"arguments":"{\"q\""}}]}}]})");
  EXPECT_EQ(events(run.all).size(), 2u);  // created, in_progress: no item without its name
  auto out = events(run.feed(
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"search","arguments":":1}"}}]}}]})"));
  EXPECT_EQ(types(out),
            (std::vector<std::string>{"response.output_item.added", "response.function_call_arguments.delta"}));
  EXPECT_EQ(out[1].data.at("delta"), json::value("{\"q\":1}"));
  run.finish(1, 1);
  auto acc = accumulate(events(run.all));
  EXPECT_EQ(acc.final.at("output").at(0).at("name"), json::value("search"));
  EXPECT_EQ(acc.final.at("output").at(0).at("arguments"), json::value("{\"q\":1}"));
}

TEST(ResponsesStream, CallsWithoutIndexOrIdOrName) {
  StreamRun run;
  // No index: a new id is a new call, no id continues the last one.
  run.feed(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{"}}]}}]})");
  run.feed(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"}"}}]}}]})");
  run.feed(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"id":"b","function":{"name":"g","arguments":"{}"}}]}}]})");
  // A call whose name never comes is still closed (nameless) at the end; no id: one is made.
  run.feed(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":7,"function":{"arguments":"[]"}}]}}]})");
  run.finish(1, 1);
  auto acc = accumulate(events(run.all));
  const auto& output = acc.final.at("output").as_array();
  ASSERT_EQ(output.size(), 3u);
  EXPECT_EQ(output[0].at("arguments"), json::value("{}"));
  EXPECT_EQ(output[0].at("call_id"), json::value("a"));
  EXPECT_EQ(output[1].at("call_id"), json::value("b"));
  EXPECT_EQ(output[2].at("name"), json::value(""));
  EXPECT_EQ(output[2].at("call_id"), json::value("call_req1_2"));
  EXPECT_EQ(output[2].at("arguments"), json::value("[]"));
  EXPECT_EQ(acc.terminal, "response.completed");
}

TEST(ResponsesStream, TextAfterToolCallsIsANewMessage) {
  StreamRun run;
  run.feed(text_chunk("a"));
  run.feed(
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"x","function":{"name":"f","arguments":"{}"}}]}}]})");
  run.feed(text_chunk("b"));
  run.finish(1, 1);
  auto acc = accumulate(events(run.all));
  const auto& output = acc.final.at("output").as_array();
  ASSERT_EQ(output.size(), 3u);
  EXPECT_EQ(output[0].at("id"), json::value("msg_req1"));
  EXPECT_EQ(output[2].at("id"), json::value("msg_req1_1"));
  EXPECT_EQ(output[2].at("content").at(0).at("text"), json::value("b"));
}

TEST(ResponsesStream, LengthEndsWithResponseIncomplete) {
  StreamRun run;
  run.feed(text_chunk("Hello, wor"));
  run.feed(R"({"choices":[{"index":0,"delta":{},"finish_reason":"length"}]})");
  run.finish(3, 4);
  auto evs = events(run.all);
  auto acc = accumulate(evs);
  EXPECT_EQ(acc.terminal, "response.incomplete");
  EXPECT_EQ(acc.final.at("status"), json::value("incomplete"));
  EXPECT_EQ(acc.final.at("incomplete_details"), json::parse(R"({"reason":"max_output_tokens"})"));
  EXPECT_EQ(acc.final.at("output").at(0).at("status"), json::value("incomplete"));
  EXPECT_EQ(acc.final.at("usage").at("output_tokens"), json::value(4));
}

TEST(ResponsesStream, RefusalsStreamAsRefusalParts) {
  StreamRun run;
  run.feed(R"({"choices":[{"index":0,"delta":{"refusal":"I can"}}]})");
  run.feed(R"({"choices":[{"index":0,"delta":{"refusal":"'t."}}]})");
  run.feed(R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})");
  run.finish(1, 1);
  auto evs = events(run.all);
  auto acc = accumulate(evs);
  EXPECT_EQ(acc.final.at("output").at(0).at("content"), json::parse(R"([{"type":"refusal","refusal":"I can't."}])"));
  EXPECT_EQ(types(evs)[4], "response.refusal.delta");
}

TEST(ResponsesStream, ReasoningDetailsInTheUsage) {
  StreamRun run;
  run.feed(text_chunk("x"));
  run.feed(R"({"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14,
              "completion_tokens_details":{"reasoning_tokens":4}}})");
  run.finish(9, 5);
  auto acc = accumulate(events(run.all));
  EXPECT_EQ(acc.final.at("usage").at("output_tokens_details").at("reasoning_tokens"), json::value(4));
  EXPECT_EQ(acc.final.at("usage").at("total_tokens"), json::value(14));
}

TEST(ResponsesStream, FinishWithoutChunksIsAnEmptyCompletedResponse) {
  StreamRun run;
  run.finish(0, 0);
  auto evs = events(run.all);
  EXPECT_EQ(types(evs), (std::vector<std::string>{"response.created", "response.in_progress", "response.completed"}));
  EXPECT_EQ(evs[0].data.at("response").at("created_at"), json::value(1718000123));
  auto acc = accumulate(evs);
  EXPECT_EQ(acc.final.at("output"), json::array{});
}

TEST(ResponsesStream, EchoesTheRequestInEveryResponseObject) {
  auto request =
      json::parse(R"({"model":"m","input":"q","instructions":"be brief","tools":[{"type":"function","name":"f"}]})");
  StreamRun run(&request);
  run.feed(text_chunk("x"));
  run.finish(1, 1);
  for (const auto& e : events(run.all)) {
    if (!e.data.as_object().contains("response")) continue;
    EXPECT_EQ(e.data.at("response").at("instructions"), json::value("be brief")) << e.type;
    EXPECT_EQ(e.data.at("response").at("tools"), request.at("tools")) << e.type;
    EXPECT_EQ(e.data.at("response").at("model"), json::value("gpt-test")) << e.type;
  }
}

TEST(ResponsesStream, FailureAfterTheStartIsResponseFailedThenError) {
  StreamRun run;
  run.feed(text_chunk("partial"));
  run.feed(
      R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"x","function":{"name":"f","arguments":"{\"a"}}]}}]})");
  auto out = events(run.fail());
  EXPECT_EQ(types(out), (std::vector<std::string>{"response.failed", "error"}));
  auto acc = accumulate(events(run.all));
  EXPECT_EQ(acc.terminal, "response.failed");
  EXPECT_TRUE(acc.error_event);
  EXPECT_EQ(acc.final.at("status"), json::value("failed"));
  EXPECT_EQ(acc.final.at("error").at("code"), json::value("server_error"));
  EXPECT_EQ(acc.final.at("output").at(0).at("content").at(0).at("text"), json::value("partial"));
  EXPECT_EQ(acc.final.at("output").at(1).at("status"), json::value("incomplete"));
  EXPECT_EQ(out[1].data.at("code"), json::value("server_error"));
  EXPECT_NE(std::string(out[1].data.at("message").as_string()).find("stream failed"), std::string::npos);
  // Nothing follows the end: no clean completion after a failure.
  EXPECT_TRUE(run.feed(text_chunk("late")).empty());
  EXPECT_TRUE(run.finish(1, 1).empty());
  EXPECT_TRUE(run.fail().empty());
}

TEST(ResponsesStream, FailureBeforeAnyChunkIsTheErrorEventAlone) {
  StreamRun run;
  auto out = events(run.fail(ErrorKind::kRateLimited));
  EXPECT_EQ(types(out), (std::vector<std::string>{"error"}));
  EXPECT_EQ(out[0].data.at("code"), json::value("rate_limit_exceeded"));
  EXPECT_EQ(out[0].data.at("sequence_number"), json::value(0));
  EXPECT_TRUE(run.finish(1, 1).empty());
}

TEST(ResponsesStream, NothingAfterCompletion) {
  StreamRun run;
  run.feed(text_chunk("x"));
  run.finish(1, 1);
  EXPECT_TRUE(run.feed(text_chunk("late")).empty());
  EXPECT_TRUE(run.fail().empty());
  EXPECT_EQ(accumulate(events(run.all)).terminal, "response.completed");
}

TEST(ResponsesStream, UnicodeAndEscapesSurviveTheDirectWriter) {
  StreamRun run;
  std::string text = "h\xC3\xA9 \"q\" \\ \n\t\xF0\x9F\x98\x80";
  run.feed(text_chunk(text));
  run.finish(1, 1);
  auto acc = accumulate(events(run.all));
  EXPECT_EQ(acc.final.at("output").at(0).at("content").at(0).at("text"), json::value(text));
}

TEST(ResponsesStream, SseContentType) {
  EXPECT_EQ(rs::codec().stream(ctx())->content_type(), "text/event-stream");
}
