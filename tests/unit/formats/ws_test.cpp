// formats/ws: client messages decoded, server messages encoded, OpenAI answers assembled.
#include "formats/ws/ws.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace anygpt::formats::ws {
namespace {
namespace json = boost::json;

Inbound ok(std::string_view text) {
  auto r = decode(text);
  EXPECT_TRUE(std::holds_alternative<Inbound>(r)) << text;
  return std::holds_alternative<Inbound>(r) ? std::get<Inbound>(r) : Inbound{};
}

Problem refused(std::string_view text) {
  auto r = decode(text);
  EXPECT_TRUE(std::holds_alternative<Problem>(r)) << text;
  return std::holds_alternative<Problem>(r) ? std::get<Problem>(r) : Problem{};
}

TEST(WsDecode, ReadsEachType) {
  EXPECT_EQ(ok(R"({"type":"ping"})").type, Inbound::Type::kPing);
  auto auth = ok(R"({"type":"auth","apiKey":"k1","pushUsage":true})");
  EXPECT_EQ(auth.type, Inbound::Type::kAuth);
  EXPECT_EQ(auth.api_key, "k1");
  EXPECT_TRUE(auth.push_usage);
  auto cancel = ok(R"({"type":"chat.cancel","requestId":"r"})");
  EXPECT_EQ(cancel.type, Inbound::Type::kCancel);
  EXPECT_EQ(cancel.request_id, "r");
  auto unknown = ok(R"({"type":"dance","requestId":"d"})");
  EXPECT_EQ(unknown.type, Inbound::Type::kUnknown);
  EXPECT_EQ(unknown.type_name, "dance");
}

TEST(WsDecode, ChatBecomesTheHttpRouteBodyWithEveryOption) {
  auto in = ok(
      R"({"type":"chat.completions","requestId":"r1","model":"m","messages":[{"role":"user","content":"hi"}],)"
      R"("temperature":0.5,"tools":[{"type":"function","function":{"name":"f"}}],"response_format":{"type":"json_object"}})");
  EXPECT_EQ(in.type, Inbound::Type::kChat);
  EXPECT_EQ(in.request_id, "r1");
  EXPECT_FALSE(in.stream);
  auto body = json::parse(in.chat_body).as_object();
  EXPECT_FALSE(body.contains("type"));
  EXPECT_FALSE(body.contains("requestId"));
  EXPECT_EQ(body.at("model"), "m");
  EXPECT_EQ(body.at("temperature").as_double(), 0.5);
  EXPECT_TRUE(body.contains("tools"));
  EXPECT_TRUE(body.contains("response_format"));
  EXPECT_FALSE(body.contains("stream_options"));
}

TEST(WsDecode, AStreamedChatAsksForTheUsage) {
  auto in = ok(R"({"type":"chat.completions","model":"m","messages":[{"role":"user","content":"hi"}],"stream":true})");
  EXPECT_TRUE(in.stream);
  auto body = json::parse(in.chat_body).as_object();
  EXPECT_EQ(body.at("stream"), true);
  EXPECT_EQ(body.at("stream_options").at("include_usage"), true);
}

TEST(WsDecode, RefusesWhatItCannotRead) {
  EXPECT_EQ(refused("{nope").code, "bad_json");
  EXPECT_EQ(refused("[1,2]").code, "bad_json");
  EXPECT_EQ(refused(R"({"type":3})").code, "bad_request");
  EXPECT_EQ(refused(R"({"type":"auth"})").code, "auth");
  EXPECT_EQ(refused(R"({"type":"chat.cancel"})").code, "bad_request");
  auto no_messages = refused(R"({"type":"chat.completions","requestId":"x","model":"m"})");
  EXPECT_EQ(no_messages.code, "bad_request");
  EXPECT_EQ(no_messages.request_id, "x");
  EXPECT_EQ(refused(R"({"type":"chat.completions","messages":[{"role":"user"}]})").code, "bad_request");
  EXPECT_EQ(refused(R"({"type":"chat.completions","model":"m","messages":[{}],"stream":"yes"})").code, "bad_request");
}

TEST(WsEncode, ServerMessages) {
  EXPECT_EQ(auth_ok("pro", "admin", false), R"({"type":"auth.ok","tier":"pro","role":"admin"})");
  EXPECT_EQ(auth_ok("pro", "user", true), R"({"type":"auth.ok","tier":"pro","role":"user","already":true})");
  EXPECT_EQ(chat_start("a\"b"), R"({"type":"chat.start","requestId":"a\"b"})");
  Problem p{"rate_limited", "slow down", "r", 2000};
  EXPECT_EQ(error(p),
            R"({"type":"error","code":"rate_limited","message":"slow down","requestId":"r","retryAfterMs":2000})");
  EXPECT_EQ(usage("r", 10, 2), R"({"type":"usage","requestId":"r","tokenUsage":10,"requestCount":2})");
}

TEST(WsProblems, HttpAnswersMapToStableCodes) {
  auto body = [](std::string_view code) {
    return std::string(R"({"error":{"message":"m","type":"t","code":")") + std::string(code) + "\"}}";
  };
  EXPECT_EQ(problem_of(401, body("invalid_api_key"), 0, "").code, "auth");
  EXPECT_EQ(problem_of(404, body("model_not_found"), 0, "").code, "model_not_found");
  EXPECT_EQ(problem_of(400, body("invalid_request_error"), 0, "").code, "bad_request");
  EXPECT_EQ(problem_of(429, body("insufficient_quota"), 0, "").code, "quota_exhausted");
  auto limited = problem_of(429, body("rate_limit_exceeded"), 3, "r");
  EXPECT_EQ(limited.code, "rate_limited");
  EXPECT_EQ(limited.retry_after_ms, 3000);
  EXPECT_EQ(limited.message, "m");
  EXPECT_EQ(problem_of(502, "not json", 0, "").code, "upstream_error");
}

TEST(WsAssembler, StreamedChunksBecomeDeltasThenOneComplete) {
  AnswerAssembler a("r");
  std::vector<std::string> out;
  const std::string c1 =
      R"(data: {"id":"c1","object":"chat.completion.chunk","created":5,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})"
      "\n\n";
  const std::string c2 = R"(data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hel"}}]})"
                         "\n\n";
  const std::string c3 = R"(data: {"id":"c1","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]})"
                         "\n\ndata: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"total_tokens\":7}}\n\ndata: [DONE]\n\n";
  EXPECT_FALSE(a.feed(c1, out));
  EXPECT_TRUE(out.empty()) << "a role-only delta says nothing";
  const std::string both = c2 + c3;
  EXPECT_FALSE(a.feed(std::string_view(both).substr(0, 20), out));  // split anywhere
  EXPECT_FALSE(a.feed(std::string_view(both).substr(20), out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], R"({"type":"chat.delta","requestId":"r","delta":{"content":"Hel"}})");
  EXPECT_EQ(out[1], R"({"type":"chat.delta","requestId":"r","delta":{"content":"lo"}})");
  auto done = json::parse(a.finish(12, "p1")).as_object();
  EXPECT_EQ(done.at("type"), "chat.complete");
  EXPECT_EQ(done.at("response"), "Hello");
  EXPECT_EQ(done.at("usage").at("total_tokens"), 7);
  EXPECT_EQ(done.at("latencyMs"), 12);
  EXPECT_EQ(done.at("providerId"), "p1");
  const auto& completion = done.at("completion").as_object();
  EXPECT_EQ(completion.at("id"), "c1");
  EXPECT_EQ(completion.at("model"), "m");
  EXPECT_EQ(completion.at("choices").at(0).at("message").at("content"), "Hello");
  EXPECT_EQ(completion.at("choices").at(0).at("finish_reason"), "stop");
}

TEST(WsAssembler, ToolCallFragmentsAreRelayedAndAssembled) {
  AnswerAssembler a("t");
  std::vector<std::string> out;
  a.feed(
      R"(data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\""}}]}}]})"
      "\n\n"
      R"(data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]},"finish_reason":"tool_calls"}]})"
      "\n\n",
      out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NE(out[0].find("\"tool_calls\""), std::string::npos);
  auto done = json::parse(a.finish(1, "")).as_object();
  EXPECT_TRUE(done.at("providerId").is_null());
  const auto& message = done.at("completion").at("choices").at(0).at("message");
  EXPECT_TRUE(message.at("content").is_null());
  EXPECT_EQ(message.at("tool_calls").at(0).at("function").at("arguments"), "{\"a\":1}");
  EXPECT_EQ(message.at("tool_calls").at(0).at("id"), "call_1");
}

TEST(WsAssembler, AnInBandErrorIsAProblem) {
  AnswerAssembler a("e");
  std::vector<std::string> out;
  auto p = a.feed("data: {\"error\":{\"message\":\"boom\"}}\n\n", out);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->code, "upstream_error");
  EXPECT_EQ(p->message, "boom");
  EXPECT_EQ(p->request_id, "e");
}

TEST(WsAssembler, AWholeCompletion) {
  AnswerAssembler a("w");
  auto r = a.complete(R"({"id":"x","choices":[{"message":{"content":"hi"}}],"usage":{"total_tokens":3}})", 4, "");
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  auto done = json::parse(std::get<std::string>(r)).as_object();
  EXPECT_EQ(done.at("response"), "hi");
  EXPECT_EQ(done.at("usage").at("total_tokens"), 3);
  EXPECT_EQ(done.at("completion").at("id"), "x");
  EXPECT_TRUE(std::holds_alternative<Problem>(a.complete("oops", 0, "")));
}

}  // namespace
}  // namespace anygpt::formats::ws
