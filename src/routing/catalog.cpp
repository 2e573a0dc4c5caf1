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
// The endpoints of every operation under one provider URL.
core::Result<Endpoints> parse_endpoints(std::string_view provider_url) {
  auto chat = upstream::parse_endpoint(operation_url(provider_url, "/chat/completions"));
  if (!chat) return chat.error();
  auto embeddings = upstream::parse_endpoint(operation_url(provider_url, "/embeddings"));
  if (!embeddings) return embeddings.error();
  return Endpoints{std::move(*chat), std::move(*embeddings)};
}
}  // namespace

Catalog::Catalog(const std::vector<config::Provider>& providers, std::vector<config::ModelDef> models,
                 std::int64_t created_fallback, std::vector<std::string>& warnings)
    : models_(std::move(models)) {
  std::set<std::string> known;
  for (const auto& m : models_) {
    known.insert(m.id);
    unsigned declared = 0;
    for (const auto& c : m.capabilities)
      if (auto cap = formats::openai::capability_from_name(c)) declared |= *cap;
    if (!declared && m.fallbacks.empty()) continue;
    auto& rule = rules_[m.id];
    rule.declared_caps = declared;
    rule.fallbacks = m.fallbacks;
  }
  for (const auto& p : providers) {
    auto handle = std::make_shared<ProviderHandle>();
    handle->provider = p;
    handle->index = providers_.size();
    auto ep = parse_endpoints(p.provider_url);
    if (!ep) {
      warnings.push_back("provider '" + p.id + "' skipped: " + ep.error().message);
      continue;
    }
    handle->endpoints = std::move(*ep);
    for (const auto& [model, url] : p.provider_urls) {
      auto mep = parse_endpoints(url);
      if (mep)
        handle->model_endpoints.emplace(model, std::move(*mep));
      else
        warnings.push_back("provider '" + p.id + "': provider_urls['" + model + "'] ignored: " + mep.error().message);
    }
    providers_.push_back(handle);
    if (p.disabled) continue;
    for (const auto& m : p.models) {
      if (m.disabled) continue;
      auto it = handle->model_endpoints.find(m.id);
      const Endpoints* target = it != handle->model_endpoints.end() ? &it->second : &handle->endpoints;
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
