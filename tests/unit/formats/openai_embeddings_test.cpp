#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstring>

#include "core/base64.hpp"
#include "formats/openai/embeddings_codec.hpp"

using namespace anygpt;
using namespace anygpt::formats;
namespace json = boost::json;

namespace {

const Codec& codec() {
  return openai::embeddings_codec();
}

core::Result<Canonical> decode(std::string_view body) {
  return codec().decode(json::parse(body), RouteParams{});
}

std::string param_of(std::string_view body) {
  auto r = decode(body);
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? "" : r.error().param;
}

TEST(OpenAIEmbeddings, EveryInputShapeOpenAIAccepts) {
  for (const char* body : {R"({"model":"m","input":"text"})", R"({"model":"m","input":["a","b"]})",
                           R"({"model":"m","input":[1,2,3]})", R"({"model":"m","input":[[1,2],[3]]})"}) {
    auto r = decode(body);
    ASSERT_TRUE(r.ok()) << body << ": " << r.error().message;
    EXPECT_EQ(r->op, Operation::kEmbeddings);
    EXPECT_TRUE(r->same_bytes);
    EXPECT_FALSE(r->stream);
    EXPECT_EQ(r->model, "m");
    EXPECT_FALSE(r->embeddings_base64);
  }
}

TEST(OpenAIEmbeddings, BadFieldsAreNamed) {
  EXPECT_EQ(param_of(R"({"input":"x"})"), "model");
  EXPECT_EQ(param_of(R"({"model":"","input":"x"})"), "model");
  EXPECT_EQ(param_of(R"({"model":"m"})"), "input");
  EXPECT_EQ(param_of(R"({"model":"m","input":null})"), "input");
  EXPECT_EQ(param_of(R"({"model":"m","input":""})"), "input");
  EXPECT_EQ(param_of(R"({"model":"m","input":[]})"), "input");
  EXPECT_EQ(param_of(R"({"model":"m","input":{"a":1}})"), "input");
  EXPECT_EQ(param_of(R"({"model":"m","input":["a",""]})"), "input[1]");
  EXPECT_EQ(param_of(R"({"model":"m","input":["a",2]})"), "input[1]");
  EXPECT_EQ(param_of(R"({"model":"m","input":[[1],[]]})"), "input[1]");
  EXPECT_EQ(param_of(R"({"model":"m","input":[[1],[-2]]})"), "input[1]");
  EXPECT_EQ(param_of(R"({"model":"m","input":[1.5]})"), "input[0]");
  EXPECT_EQ(param_of(R"({"model":"m","input":"x","encoding_format":"int8"})"), "encoding_format");
  EXPECT_EQ(param_of(R"({"model":"m","input":"x","dimensions":0})"), "dimensions");
  EXPECT_EQ(param_of(R"({"model":"m","input":"x","dimensions":"8"})"), "dimensions");
  EXPECT_FALSE(decode("[1]").ok());
}

TEST(OpenAIEmbeddings, Base64IsRememberedForTheAnswer) {
  EXPECT_TRUE(decode(R"({"model":"m","input":"x","encoding_format":"base64"})")->embeddings_base64);
  EXPECT_FALSE(decode(R"({"model":"m","input":"x","encoding_format":"float"})")->embeddings_base64);
  EXPECT_FALSE(decode(R"({"model":"m","input":"x","encoding_format":null,"dimensions":null})")->embeddings_base64);
}

TEST(OpenAIEmbeddings, NativeFloatsAreEncodedAsTheClientAsked) {
  auto answer = json::parse(R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[1.0,-0.5]},
    {"object":"embedding","index":1,"embedding":"already"}],"model":"m","usage":{"prompt_tokens":2,"total_tokens":2}})")
                    .as_object();
  AnswerContext floats{"m", "req", false, false};
  EXPECT_EQ(json::parse(codec().encode(answer, floats, Moment{})), json::value(answer));
  AnswerContext base64{"m", "req", false, true};
  auto out = json::parse(codec().encode(answer, base64, Moment{})).as_object();
  // 1.0f = 00 00 80 3f, -0.5f = 00 00 00 bf (little-endian).
  EXPECT_EQ(out.at("data").at(0).at("embedding"), "AACAPwAAAL8=");
  EXPECT_EQ(out.at("data").at(1).at("embedding"), "already");
  EXPECT_EQ(out.at("usage"), answer.at("usage"));
  EXPECT_TRUE(codec().relays_answer());
}

TEST(OpenAIEmbeddings, InputEstimateForProvidersWithoutUsage) {
  auto est = [](std::string_view body) { return openai::estimate_embedding_tokens(json::parse(body).as_object()); };
  EXPECT_EQ(est(R"({"input":"abcde"})"), 2);
  EXPECT_EQ(est(R"({"input":["abcd","é"]})"), 2);
  EXPECT_EQ(est(R"({"input":[5,6,7]})"), 3);
  EXPECT_EQ(est(R"({"input":[[5,6],[7]]})"), 3);
  EXPECT_EQ(est(R"({})"), 0);
}

TEST(Base64, StandardAlphabetAndPadding) {
  EXPECT_EQ(core::base64_encode(""), "");
  EXPECT_EQ(core::base64_encode("f"), "Zg==");
  EXPECT_EQ(core::base64_encode("fo"), "Zm8=");
  EXPECT_EQ(core::base64_encode("foo"), "Zm9v");
  EXPECT_EQ(core::base64_encode("\xff\xfe"), "//4=");
}

}  // namespace
