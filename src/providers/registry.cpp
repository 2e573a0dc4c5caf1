#include "providers/registry.hpp"

#include "formats/anthropic/provider.hpp"
#include "formats/gemini/provider.hpp"
#include "formats/ollama/provider.hpp"
#include "formats/responses/provider.hpp"

namespace anygpt::providers {

const Descriptor& descriptor(config::ProviderProtocol protocol) {
  // https://docs.anthropic.com/en/api/versioning; Gemini's key stays out of URLs (and logs).
  static const Descriptor kOpenAI{nullptr, "", ""};
  static const Descriptor kAnthropic{&formats::anthropic::provider_codec(), "x-api-key",
                                     "anthropic-version: 2023-06-01\r\n"};
  static const Descriptor kGemini{&formats::gemini::provider_codec(), "x-goog-api-key", ""};
  static const Descriptor kOllama{&formats::ollama::provider_codec(), "", ""};
  static const Descriptor kResponses{&formats::responses::provider_codec(), "", ""};
  switch (protocol) {
    case config::ProviderProtocol::kOpenAI: return kOpenAI;
    case config::ProviderProtocol::kAnthropic: return kAnthropic;
    case config::ProviderProtocol::kGemini: return kGemini;
    case config::ProviderProtocol::kOllama: return kOllama;
    case config::ProviderProtocol::kOpenAIResponses: return kResponses;
  }
  return kOpenAI;
}

const formats::ProviderCodec* codec_for(config::ProviderProtocol protocol) {
  return descriptor(protocol).codec;
}

}  // namespace anygpt::providers
