#include "formats/openai/capabilities.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

using namespace anygpt::formats::openai;
namespace json = boost::json;

namespace {
unsigned caps_of(std::string_view body) {
  return required_capabilities(json::parse(body).as_object());
}
}  // namespace

TEST(Capabilities, PlainTextRequestNeedsNothingExtra) {
  EXPECT_EQ(caps_of(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})"), 0u);
  EXPECT_EQ(caps_of(R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]})"), 0u);
}

TEST(Capabilities, ImageAndAudioPartsNeedInputCapabilities) {
  EXPECT_EQ(caps_of(R"({"messages":[{"role":"user","content":[{"type":"text","text":"what is this"},
              {"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]})"),
            kImageInput);
  EXPECT_EQ(caps_of(R"({"messages":[{"role":"user","content":[{"type":"input_image","image_url":"data:..."}]}]})"),
            kImageInput);
  EXPECT_EQ(caps_of(R"({"messages":[{"role":"system","content":"s"},
              {"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]})"),
            kAudioInput);
}

TEST(Capabilities, ImageOutputTagInTextOrModalities) {
  EXPECT_EQ(caps_of(R"({"messages":[{"role":"user","content":[{"type":"text","text":"draw a cat [image_output]"}]}]})"),
            kImageOutput);
  EXPECT_EQ(caps_of(R"({"messages":[{"role":"user","content":"a cat [image_output]"}]})"), kImageOutput);
  EXPECT_EQ(caps_of(R"({"messages":[],"modalities":["text","image"]})"), kImageOutput);
  EXPECT_EQ(caps_of(R"({"messages":[],"modalities":["text","audio"]})"), kAudioOutput);
}

TEST(Capabilities, AudioOptionNeedsAudioOutputUnlessNull) {
  EXPECT_EQ(caps_of(R"({"messages":[],"audio":{"voice":"alloy","format":"wav"}})"), kAudioOutput);
  EXPECT_EQ(caps_of(R"({"messages":[],"audio":null})"), 0u);
}

TEST(Capabilities, ToolsOrFunctionsNeedTools) {
  EXPECT_EQ(caps_of(R"({"messages":[],"tools":[{"type":"function","function":{"name":"f"}}]})"), kTools);
  EXPECT_EQ(caps_of(R"({"messages":[],"functions":[{"name":"f"}]})"), kTools);
  EXPECT_EQ(caps_of(R"({"messages":[],"tools":[]})"), 0u);
  EXPECT_EQ(caps_of(R"({"messages":[],"tools":null})"), 0u);
}

TEST(Capabilities, ModelNameIsNotUsedToInferImageOutput) {
  EXPECT_EQ(caps_of(R"({"model":"imagen-3-vision-image","messages":[{"role":"user","content":"hi"}]})"), 0u);
}

TEST(Capabilities, MalformedPartsAreSkipped) {
  EXPECT_EQ(caps_of(R"({"messages":[1,{"content":[null,{"type":5},{"text":"[image_output]"}]},{"content":{}}],
              "modalities":"image"})"),
            0u);
  EXPECT_EQ(caps_of(R"({"messages":"nope"})"), 0u);
}

TEST(Capabilities, CombinedRequestSetsEveryBit) {
  unsigned caps = caps_of(R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"u"}},
      {"type":"input_audio","input_audio":{}}]}],"modalities":["audio","image"],"tools":[{"type":"function"}]})");
  EXPECT_EQ(caps, kImageInput | kAudioInput | kAudioOutput | kImageOutput | kTools);
  EXPECT_EQ(capability_names(caps), "image_input,image_output,audio_input,audio_output,tools");
}

TEST(Capabilities, NamesMapBothWays) {
  for (std::string_view n : {"text", "image_input", "image_output", "audio_input", "audio_output", "tools"}) {
    auto c = capability_from_name(n);
    ASSERT_TRUE(c.has_value()) << n;
    EXPECT_EQ(capability_names(*c), n);
  }
  EXPECT_FALSE(capability_from_name("video").has_value());
  EXPECT_FALSE(capability_from_name("Text").has_value());
  EXPECT_EQ(capability_names(0), "");
  EXPECT_EQ(capability_names(kText | kTools | 1024u), "text,tools");
}
