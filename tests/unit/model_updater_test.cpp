#include "routing/model_updater.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

using namespace anygpt::routing;
namespace json = boost::json;

TEST(ModelUpdater, OwnerGuessedFromThePrefixTable) {
  EXPECT_EQ(guess_owned_by("openai/gpt-4o"), "openai");
  EXPECT_EQ(guess_owned_by("meta-llama/llama-3.3-70b"), "meta");
  EXPECT_EQ(guess_owned_by("Google/gemini-2.0-flash-001"), "google");  // case-insensitive
  EXPECT_EQ(guess_owned_by("gemma/x"), "google");
  EXPECT_EQ(guess_owned_by("mistralai/mistral-7b"), "mistral.ai");
  EXPECT_EQ(guess_owned_by("qwen/qwen3"), "alibaba");
  EXPECT_EQ(guess_owned_by("x-ai/grok-4"), "xai");
  EXPECT_EQ(guess_owned_by("z-ai/glm-4.6"), "z.ai");
  EXPECT_EQ(guess_owned_by("azure/gpt-4o"), "microsoft");
  EXPECT_EQ(guess_owned_by("bedrock/anything"), "amazon");
  EXPECT_EQ(guess_owned_by("openrouter/auto"), "openrouter");
  // A prefix outside the table falls through to the substring rules.
  EXPECT_EQ(guess_owned_by("nousresearch/hermes-3-llama-3.1-405b"), "meta");
  EXPECT_EQ(guess_owned_by("somelab/thing"), "unknown");
}

TEST(ModelUpdater, OwnerGuessedFromSubstrings) {
  EXPECT_EQ(guess_owned_by("gpt-4o-mini"), "openai");
  EXPECT_EQ(guess_owned_by("claude-3-5-sonnet"), "anthropic");
  EXPECT_EQ(guess_owned_by("models/gemini-1.5-pro"), "google");
  EXPECT_EQ(guess_owned_by("llama3-70b-8192"), "meta");
  EXPECT_EQ(guess_owned_by("open-mixtral-8x7b"), "mistral.ai");
  EXPECT_EQ(guess_owned_by("ministral-8b"), "mistral.ai");
  EXPECT_EQ(guess_owned_by("qwen-max"), "alibaba");
  EXPECT_EQ(guess_owned_by("o1-preview"), "openai");
  EXPECT_EQ(guess_owned_by("command-r-plus"), "cohere");
  EXPECT_EQ(guess_owned_by("chatgpt-4o-latest"), "openai");
  EXPECT_EQ(guess_owned_by("mock-gpt-4"), "unknown");  // "gpt" counts only at the start
  EXPECT_EQ(guess_owned_by(""), "unknown");
}

TEST(ModelUpdater, CountsUpdatedZeroRemovedNewAppended) {
  auto doc = json::parse(R"({"object":"list","data":[
    {"id":"gpt-4o","object":"model","created":1,"owned_by":"openai","providers":1,
     "capabilities":["text","image_input"],"throughput":50,"extra":"kept"},
    {"id":"gone","object":"model","created":1,"owned_by":"x","providers":2},
    {"id":"claude-3","object":"model","created":1,"owned_by":"unknown","providers":1},
    {"id":"also-gone","object":"model","created":1,"owned_by":"x","providers":2}]})");
  std::map<std::string, int> counts{{"gpt-4o", 3}, {"claude-3", 1}, {"also-gone", 0}, {"qwen/new", 2}, {"zero-new", 0}};
  ASSERT_TRUE(refresh_models_doc(doc, counts, 1767225600123));
  const auto& data = doc.at("data").as_array();
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data[0], json::parse(R"({"id":"gpt-4o","object":"model","created":1,"owned_by":"openai","providers":3,
    "capabilities":["text","image_input"],"throughput":50,"extra":"kept"})"));
  EXPECT_EQ(data[1].at("owned_by"), json::value("anthropic"));  // "unknown" is guessed again
  EXPECT_EQ(data[1].at("providers"), json::value(1));
  EXPECT_EQ(data[2], json::parse(R"({"id":"qwen/new","object":"model","created":1767225600123,
    "owned_by":"alibaba","providers":2})"));
  EXPECT_FALSE(refresh_models_doc(doc, counts, 1767225699999));  // in step: nothing to do
}

TEST(ModelUpdater, EntriesWithFallbacksSurviveWithoutProviders) {
  auto doc = json::parse(R"({"object":"list","data":[
    {"id":"smart","object":"model","created":1,"fallbacks":["gpt-4o","claude-3"],"providers":2}]})");
  ASSERT_TRUE(refresh_models_doc(doc, {}, 5));
  const auto& e = doc.at("data").at(0).as_object();
  EXPECT_EQ(e.at("providers"), json::value(0));
  EXPECT_EQ(e.at("owned_by"), json::value("unknown"));  // missing owner is filled in
  EXPECT_EQ(e.at("fallbacks"), json::parse(R"(["gpt-4o","claude-3"])"));
  EXPECT_FALSE(refresh_models_doc(doc, {}, 6));
}

TEST(ModelUpdater, MissingOwnerIsGuessedAndFieldOrderKept) {
  auto doc = json::parse(R"({"object":"list","data":[{"id":"claude-x","providers":1,"object":"model"}]})");
  ASSERT_TRUE(refresh_models_doc(doc, {{"claude-x", 1}}, 0));
  std::vector<std::string> keys;
  for (const auto& kv : doc.at("data").at(0).as_object()) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "providers", "object", "owned_by"}));
  EXPECT_EQ(doc.at("data").at(0).at("owned_by"), json::value("anthropic"));
}

TEST(ModelUpdater, MalformedDocumentsAreLeftAlone) {
  json::value arr = json::parse("[]");
  EXPECT_FALSE(refresh_models_doc(arr, {{"a", 1}}, 0));
  json::value no_data = json::parse(R"({"object":"list"})");
  EXPECT_FALSE(refresh_models_doc(no_data, {{"a", 1}}, 0));
  EXPECT_EQ(no_data, json::parse(R"({"object":"list"})"));
  // Entries without a string id are kept as they are.
  json::value odd = json::parse(R"({"data":[5,{"name":"x"}]})");
  EXPECT_FALSE(refresh_models_doc(odd, {}, 0));
  EXPECT_EQ(odd.at("data").as_array().size(), 2u);
}
