#include "routing/catalog.hpp"

#include <set>

namespace anygpt::routing {

std::string chat_url(std::string_view provider_url) {
  std::string url(provider_url);
  auto q = url.find('?');
  std::string path_part = url.substr(0, q);
  std::string query = q == std::string::npos ? "" : url.substr(q);
  if (path_part.find("/chat/completions") != std::string::npos) return url;
  while (!path_part.empty() && path_part.back() == '/') path_part.pop_back();
  return path_part + "/chat/completions" + query;
}

Catalog::Catalog(const std::vector<config::Provider>& providers, std::vector<config::ModelDef> models,
                 std::int64_t created_fallback, std::vector<std::string>& warnings)
    : models_(std::move(models)) {
  std::set<std::string> known;
  for (const auto& m : models_) known.insert(m.id);
  for (const auto& p : providers) {
    auto handle = std::make_shared<ProviderHandle>();
    handle->provider = p;
    auto ep = upstream::parse_endpoint(chat_url(p.provider_url));
    if (!ep) {
      warnings.push_back("provider '" + p.id + "' skipped: " + ep.error().message);
      continue;
    }
    handle->chat_endpoint = std::move(*ep);
    for (const auto& [model, url] : p.provider_urls) {
      auto mep = upstream::parse_endpoint(chat_url(url));
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
      const upstream::Endpoint* target = it != handle->model_endpoints.end() ? &it->second : &handle->chat_endpoint;
      by_model_[m.id].push_back(Candidate{handle, target, m.upstream_model});
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

}  // namespace anygpt::routing
