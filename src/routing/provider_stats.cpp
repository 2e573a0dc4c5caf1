#include "routing/provider_stats.hpp"

#include <boost/json.hpp>
#include <cmath>
#include <map>
#include <string_view>

#include "config/data_files.hpp"

namespace anygpt::routing {
namespace json = boost::json;

namespace {

// A number rounded to 2 decimals, or null. Integral results are stored as integers so the file
// keeps "820" rather than a double's "8.2E2", and re-reading the file compares equal.
json::value number2(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  double r = std::round(*v * 100) / 100;
  if (r == std::trunc(r) && std::fabs(r) < 9e15) return static_cast<std::int64_t>(r);
  return r;
}

// Sets o[key] = v, keeping the key's position when it exists; true when the value changed.
bool set(json::object& o, std::string_view key, json::value v) {
  if (auto* old = o.if_contains(key); old && *old == v) return false;
  o.insert_or_assign(key, std::move(v));
  return true;
}

bool apply_disabled(json::object& o, bool circuit_open) {
  const auto* d = o.if_contains("disabled");
  bool disabled = d && d->is_bool() && d->get_bool();
  const auto* by = o.if_contains("disabled_by");
  bool marked = by && by->is_string() && by->get_string() == config::kAutoDisabledBy;
  if (circuit_open) {
    if (disabled && !marked) return false;  // a human disabled it: theirs to undo
    bool changed = set(o, "disabled", true);
    return set(o, "disabled_by", json::string(config::kAutoDisabledBy)) || changed;
  }
  if (!marked) return false;
  set(o, "disabled", false);
  o.erase("disabled_by");  // the marker was there, so this is a change either way
  return true;
}

json::value response_times(const std::vector<ResponseSample>& samples) {
  json::array out;
  out.reserve(samples.size());
  for (const auto& s : samples) {
    json::object e;
    e["timestamp"] = s.timestamp_ms;
    e["response_time"] = number2(s.response_time_ms);
    e["input_tokens"] = s.input_tokens;
    e["output_tokens"] = s.output_tokens;
    e["tokens_generated"] = s.input_tokens + s.output_tokens;
    e["provider_latency"] = number2(s.provider_latency_ms);
    e["observed_speed_tps"] = number2(s.observed_speed_tps);
    out.push_back(std::move(e));
  }
  return out;
}

bool apply_model(json::object& m, const ModelStats& st) {
  bool changed = false;
  changed |= set(m, "response_times", response_times(st.samples));
  changed |= set(m, "errors", st.errors);
  changed |= set(m, "consecutive_errors", st.consecutive_errors);
  changed |= set(m, "avg_response_time", number2(st.avg_response_time));
  changed |= set(m, "avg_provider_latency", number2(st.avg_provider_latency));
  json::value speed = number2(st.avg_token_speed);
  if (!speed.is_null()) changed |= set(m, "token_generation_speed", speed);
  changed |= set(m, "avg_token_speed", std::move(speed));
  changed |= apply_disabled(m, st.disabled);
  return changed;
}

bool apply_provider(json::object& p, const ProviderStats& st) {
  bool changed = false;
  changed |= set(p, "avg_response_time", number2(st.avg_response_time));
  changed |= set(p, "avg_provider_latency", number2(st.avg_provider_latency));
  changed |= set(p, "errors", st.errors);
  json::value score = nullptr;
  if (st.score && std::isfinite(*st.score)) score = static_cast<std::int64_t>(std::llround(*st.score));
  changed |= set(p, "provider_score", std::move(score));
  changed |= apply_disabled(p, st.disabled);
  auto* models = p.if_contains("models");
  if (!models || !models->is_object()) return changed;
  for (const auto& ms : st.models) {
    auto* m = models->get_object().if_contains(ms.model_id);
    if (m && m->is_object()) changed |= apply_model(m->get_object(), ms);
  }
  return changed;
}

}  // namespace

bool apply_stats(json::value& providers_doc, const std::vector<ProviderStats>& stats) {
  if (!providers_doc.is_array()) return false;
  std::map<std::string_view, const ProviderStats*> by_id;
  for (const auto& s : stats) by_id.emplace(s.provider_id, &s);
  bool changed = false;
  for (auto& v : providers_doc.get_array()) {
    if (!v.is_object()) continue;
    const auto* id = v.get_object().if_contains("id");
    if (!id || !id->is_string()) continue;
    auto it = by_id.find(std::string_view(id->get_string()));
    if (it != by_id.end()) changed |= apply_provider(v.get_object(), *it->second);
  }
  return changed;
}

}  // namespace anygpt::routing
