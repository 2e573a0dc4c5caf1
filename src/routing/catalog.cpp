#include "routing/catalog.hpp"

#include <set>

#include "formats/openai/capabilities.hpp"

namespace anygpt::routing {

std::string operation_url(std::string_view provider_url, std::string_view path) {
  std::string url(provider_url);
  auto q = url.find('?');
  std::string path_part = url.substr(0, q);
  std::string query = q == std::string::npos ? "" : url.substr(q);
  if (auto at = path_part.find("/chat/completions"); at != std::string::npos) path_part.erase(at);
  while (!path_part.empty() && path_part.back() == '/') path_part.pop_back();
  return path_part + std::string(path) + query;
}

namespace {
// An OpenAI-compatible host's path for each operation.
std::string_view openai_path(formats::Operation op) {
  switch (op) {
    case formats::Operation::kChat: return "/chat/completions";
    case formats::Operation::kEmbeddings: return "/embeddings";
    case formats::Operation::kImages: return "/images/generations";
    case formats::Operation::kSpeech: return "/audio/speech";
    case formats::Operation::kVideos: return "/videos/generations";
    case formats::Operation::kImageEdits: return "/images/edits";
    case formats::Operation::kTranscriptions: return "/audio/transcriptions";
    case formats::Operation::kTranslations: return "/audio/translations";
  }
  return "/chat/completions";
}

// The endpoints of every operation of one model under a provider URL: an OpenAI-compatible URL
// (codec == nullptr), or a native API base the codec's paths are appended to.
core::Result<Endpoints> parse_endpoints(std::string_view provider_url, const formats::ProviderCodec* codec,
                                        std::string_view model) {
  auto url = [&](formats::Operation op, bool stream) {
    if (!codec) return operation_url(provider_url, openai_path(op));
    std::string base(provider_url);
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + codec->path(formats::UpstreamCall{op, model, stream, 0});
  };
  Endpoints out;
  for (std::size_t i = 0; i < formats::kOperationCount; ++i) {
    auto ep = upstream::parse_endpoint(url(static_cast<formats::Operation>(i), false));
    if (!ep) return ep.error();
    out.by_op[i] = std::move(*ep);
  }
  auto stream = upstream::parse_endpoint(url(formats::Operation::kChat, true));
  if (!stream) return stream.error();
  out.chat_stream = std::move(*stream);
  return out;
}
}  // namespace

Catalog::Catalog(const std::vector<config::Provider>& providers, std::vector<config::ModelDef> models,
                 std::int64_t created_fallback, std::vector<std::string>& warnings, CodecLookup codecs)
    : models_(std::move(models)) {
  std::set<std::string> known;
  for (const auto& m : models_) {
    known.insert(m.id);
    unsigned declared = 0;
    for (const auto& c : m.capabilities)
      if (auto cap = formats::openai::capability_from_name(c)) declared |= *cap;
    if (!declared && m.fallbacks.empty() && m.context_window == 0) continue;
    auto& rule = rules_[m.id];
    rule.declared_caps = declared;
    rule.fallbacks = m.fallbacks;
    rule.context_window = m.context_window;
  }
  for (const auto& p : providers) {
    auto handle = std::make_shared<ProviderHandle>();
    handle->provider = p;
    handle->index = providers_.size();
    handle->codec = codecs ? codecs(p.protocol) : nullptr;
    if (p.protocol != config::ProviderProtocol::kOpenAI && !handle->codec) {
      warnings.push_back("provider '" + p.id + "' skipped: protocol '" + config::protocol_name(p.protocol) +
                         "' is not available");
      continue;
    }
    if (auto base = parse_endpoints(p.provider_url, handle->codec, "model"); !base) {
      warnings.push_back("provider '" + p.id + "' skipped: " + base.error().message);
      continue;
    }
    for (const auto& m : p.models) {
      auto it = p.provider_urls.find(m.id);
      if (it != p.provider_urls.end()) {
        auto own = parse_endpoints(it->second, handle->codec, m.upstream_model);
        if (own) {
          handle->model_endpoints.emplace(m.id, std::move(*own));
          continue;
        }
        warnings.push_back("provider '" + p.id + "': provider_urls['" + m.id + "'] ignored: " + own.error().message);
      }
      auto ep = parse_endpoints(p.provider_url, handle->codec, m.upstream_model);
      if (ep)
        handle->model_endpoints.emplace(m.id, std::move(*ep));
      else
        warnings.push_back("provider '" + p.id + "': model '" + m.id + "' skipped: " + ep.error().message);
    }
    providers_.push_back(handle);
    if (p.disabled) continue;
    for (const auto& m : p.models) {
      if (m.disabled) continue;
      auto it = handle->model_endpoints.find(m.id);
      if (it == handle->model_endpoints.end()) continue;  // (its URL could not be parsed: warned above)
      const Endpoints* target = &it->second;
      unsigned skipped = 0;
      for (const auto& [cap, reason] : m.capability_skips)
        if (auto c = formats::openai::capability_from_name(cap)) skipped |= *c;
      by_model_[m.id].push_back(Candidate{handle, target, m.upstream_model, seeds_.size(), skipped});
      SlotSeed seed;
      seed.provider = handle->index;
      seed.provider_id = p.id;
      seed.model_id = m.id;
      seed.model_auto_disabled = m.auto_disabled;
      seed.provider_auto_disabled = p.auto_disabled;
      seed.avg_provider_latency = m.avg_provider_latency;
      seed.avg_token_speed = m.avg_token_speed;
      seed.avg_response_time = m.avg_response_time;
      seed.errors = m.errors;
      seed.consecutive_errors = m.consecutive_errors;
      seeds_.push_back(std::move(seed));
      if (known.insert(m.id).second) {
        config::ModelDef def;
        def.id = m.id;
        def.owned_by = p.id;
        def.created = created_fallback;
        models_.push_back(std::move(def));
      }
    }
  }
}

const std::vector<Candidate>& Catalog::candidates(std::string_view model) const {
  static const std::vector<Candidate> kNone;
  auto it = by_model_.find(std::string(model));
  return it == by_model_.end() ? kNone : it->second;
}

const ModelRule& Catalog::rule(std::string_view model) const {
  static const ModelRule kNone;
  auto it = rules_.find(std::string(model));
  return it == rules_.end() ? kNone : it->second;
}

std::map<std::string, int> Catalog::provider_counts() const {
  std::map<std::string, int> out;
  for (const auto& [model, cands] : by_model_) out[model] = static_cast<int>(cands.size());
  return out;
}

}  // namespace anygpt::routing
