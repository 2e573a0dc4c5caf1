// routing: which providers serve which model. Pure data, built once from the data files and
// shared as an immutable snapshot.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/data_files.hpp"
#include "formats/codec.hpp"
#include "formats/provider.hpp"
#include "routing/health.hpp"
#include "upstream/client.hpp"

namespace anygpt::routing {

// Where one (provider, model)'s calls go: [formats::Operation] -> endpoint, plus the chat
// stream's (which differs for Gemini: :streamGenerateContent?alt=sse).
struct Endpoints {
  std::array<upstream::Endpoint, formats::kOperationCount> by_op;
  upstream::Endpoint chat_stream;
};

// The ProviderCodec of a native protocol (nullptr for openai: the canonical shape as is).
using CodecLookup = const formats::ProviderCodec* (*)(config::ProviderProtocol protocol);

// A provider ready to be called: its descriptor plus parsed endpoints.
struct ProviderHandle {
  config::Provider provider;
  std::size_t index = 0;                             // dense, HealthBoard provider index
  const formats::ProviderCodec* codec = nullptr;     // nullptr: an OpenAI-compatible host
  std::map<std::string, Endpoints> model_endpoints;  // per model: provider_urls or provider_url
};

struct Candidate {
  std::shared_ptr<const ProviderHandle> provider;
  const Endpoints* endpoints;  // where to send this model's requests, per operation
  const upstream::Endpoint& endpoint(formats::Operation op, bool stream) const {
    if (stream && op == formats::Operation::kChat) return endpoints->chat_stream;
    return endpoints->by_op[static_cast<std::size_t>(op)];
  }
  std::string upstream_model;  // the model name the provider expects
  std::size_t slot = 0;        // HealthBoard slot of this (provider, model) pair
  unsigned skipped_caps = 0;   // capabilities this provider lacks for the model (capability_skips)
};

// What models.json says about a model beyond its listing.
struct ModelRule {
  unsigned declared_caps = 0;  // formats::openai::Capability mask; 0 = not declared
  std::vector<std::string> fallbacks;
  std::int64_t context_window = 0;  // tokens; 0 = unknown
};

// Immutable after construction; safe to share across threads. Building it again from the same
// providers gives the same slots, so a models.json reload keeps the health board valid.
class Catalog {
 public:
  // Providers whose URL cannot be parsed are skipped and reported through `warnings`.
  // Models served by a provider but absent from models.json are listed with `created_fallback`
  // (epoch seconds).
  // `codecs` gives native providers' codecs (nullptr: every provider is taken as openai).
  Catalog(const std::vector<config::Provider>& providers, std::vector<config::ModelDef> models,
          std::int64_t created_fallback, std::vector<std::string>& warnings, CodecLookup codecs = nullptr);

  // Enabled providers serving `model`, in file order. Empty when nobody serves it.
  const std::vector<Candidate>& candidates(std::string_view model) const;
  // The model's rule; an empty rule when models.json says nothing.
  const ModelRule& rule(std::string_view model) const;

  // models.json entries plus models served by a provider but missing from models.json.
  const std::vector<config::ModelDef>& models() const { return models_; }
  std::size_t provider_count() const { return providers_.size(); }
  // Every (provider, model) pair in rotation, index = slot, with its stored stats.
  const std::vector<SlotSeed>& slot_seeds() const { return seeds_; }
  // Enabled providers serving each model.
  std::map<std::string, int> provider_counts() const;

 private:
  std::vector<std::shared_ptr<const ProviderHandle>> providers_;
  std::unordered_map<std::string, std::vector<Candidate>> by_model_;
  std::unordered_map<std::string, ModelRule> rules_;
  std::vector<config::ModelDef> models_;
  std::vector<SlotSeed> seeds_;
};

// The URL of an operation (`path`: "/chat/completions", "/embeddings") for a provider_url: a
// URL that names .../chat/completions has that part replaced by `path`; otherwise it is a base
// URL and `path` is appended. The query string is kept.
std::string operation_url(std::string_view provider_url, std::string_view path);

}  // namespace anygpt::routing
