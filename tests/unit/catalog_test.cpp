// routing::Catalog: which endpoint each (provider, model, operation) call goes to, for
// OpenAI-compatible hosts and native protocols (a fake codec stands in for one).
#include <gtest/gtest.h>

#include "routing/catalog.hpp"

using anygpt::config::Provider;
using anygpt::config::ProviderModel;
using anygpt::config::ProviderProtocol;
using anygpt::formats::Operation;
namespace routing = anygpt::routing;
namespace formats = anygpt::formats;

namespace {

// Paths that show which call they were made for; no translation (never called here).
class FakeCodec final : public formats::ProviderCodec {
 public:
  std::string path(const formats::UpstreamCall& call) const override {
    return std::string(call.op == Operation::kChat ? "/chat/" : "/embed/") + std::string(call.model) +
           (call.stream ? ":stream" : "");
  }
  anygpt::core::Result<std::string> encode_request(const boost::json::object&,
                                                   const formats::UpstreamCall&) const override {
    return std::string();
  }
  anygpt::core::Result<boost::json::object> decode_answer(std::string_view,
                                                          const formats::UpstreamCall&) const override {
    return boost::json::object{};
  }
  std::unique_ptr<formats::StreamDecoder> stream_decoder(const formats::UpstreamCall&) const override { return {}; }
  std::unique_ptr<formats::StreamWatcher> stream_watcher(const formats::UpstreamCall&) const override { return {}; }
  std::optional<anygpt::core::Usage> answer_usage(std::string_view, const formats::UpstreamCall&) const override {
    return std::nullopt;
  }
  std::string error_message(std::string_view) const override { return {}; }
};

const FakeCodec kFake;
const formats::ProviderCodec* fake_for(ProviderProtocol p) {
  return p == ProviderProtocol::kOpenAI ? nullptr : &kFake;
}

Provider provider(std::string id, ProviderProtocol protocol, std::string url, std::vector<std::string> models) {
  Provider p;
  p.id = std::move(id);
  p.protocol = protocol;
  p.provider_url = std::move(url);
  for (auto& m : models) {
    ProviderModel pm;
    pm.id = m;
    pm.upstream_model = m + "-upstream";
    p.models.push_back(std::move(pm));
  }
  return p;
}

}  // namespace

TEST(Catalog, OpenAIHostsGetChatAndEmbeddingsUnderTheirBase) {
  std::vector<std::string> warnings;
  routing::Catalog c({provider("o", ProviderProtocol::kOpenAI, "http://h:1/v1/chat/completions?x=1", {"m"})}, {}, 0,
                     warnings, &fake_for);
  ASSERT_EQ(c.candidates("m").size(), 1u);
  const auto& cand = c.candidates("m")[0];
  EXPECT_EQ(cand.endpoint(Operation::kChat, false).target, "/v1/chat/completions?x=1");
  EXPECT_EQ(cand.endpoint(Operation::kChat, true).target, "/v1/chat/completions?x=1");
  EXPECT_EQ(cand.endpoint(Operation::kEmbeddings, false).target, "/v1/embeddings?x=1");
  EXPECT_TRUE(warnings.empty());
}

TEST(Catalog, NativeProvidersGetTheirCodecsPathsPerModelAndStream) {
  std::vector<std::string> warnings;
  routing::Catalog c({provider("g", ProviderProtocol::kGemini, "http://h:2/v1beta/", {"m"})}, {}, 0, warnings,
                     &fake_for);
  ASSERT_EQ(c.candidates("m").size(), 1u);
  const auto& cand = c.candidates("m")[0];
  EXPECT_EQ(cand.provider->codec, &kFake);
  EXPECT_EQ(cand.endpoint(Operation::kChat, false).target, "/v1beta/chat/m-upstream");
  EXPECT_EQ(cand.endpoint(Operation::kChat, true).target, "/v1beta/chat/m-upstream:stream");
  EXPECT_EQ(cand.endpoint(Operation::kEmbeddings, false).target, "/v1beta/embed/m-upstream");
}

TEST(Catalog, ANativeProviderWithoutACodecIsSkippedWithAWarning) {
  std::vector<std::string> warnings;
  routing::Catalog c({provider("a", ProviderProtocol::kAnthropic, "http://h:3", {"m"}),
                      provider("o", ProviderProtocol::kOpenAI, "http://h:4/v1", {"m"})},
                     {}, 0, warnings);
  ASSERT_EQ(c.candidates("m").size(), 1u);
  EXPECT_EQ(c.candidates("m")[0].provider->provider.id, "o");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("'a'"), std::string::npos);
}

TEST(Catalog, ABadProviderUrlOverrideFallsBackToTheProviderUrl) {
  auto p = provider("o", ProviderProtocol::kOpenAI, "http://h:5/v1", {"m"});
  p.provider_urls["m"] = "not a url";
  std::vector<std::string> warnings;
  routing::Catalog c({p}, {}, 0, warnings, &fake_for);
  ASSERT_EQ(c.candidates("m").size(), 1u);
  EXPECT_EQ(c.candidates("m")[0].endpoint(Operation::kChat, false).target, "/v1/chat/completions");
  EXPECT_EQ(warnings.size(), 1u);
}
