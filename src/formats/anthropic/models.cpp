#include <boost/json.hpp>
#include <chrono>
#include <cstdio>

#include "formats/anthropic/anthropic.hpp"

namespace anygpt::formats::anthropic {
namespace json = boost::json;

namespace {

// Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" (calendar arithmetic only, no clock).
std::string rfc3339(std::int64_t unix_seconds) {
  using namespace std::chrono;
  sys_seconds t{seconds{unix_seconds}};
  auto day = floor<days>(t);
  year_month_day date{day};
  auto secs = (t - day).count();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60));
  return buf;
}

json::object model_object(const common::ModelInfo& model) {
  return json::object{
      {"type", "model"}, {"id", model.id}, {"display_name", model.id}, {"created_at", rfc3339(model.created_s)}};
}

}  // namespace

std::string models_body(const std::vector<common::ModelInfo>& models) {
  json::array data;
  for (const auto& m : models) data.push_back(model_object(m));
  json::object out{{"data", std::move(data)}, {"has_more", false}};
  out["first_id"] = models.empty() ? json::value(nullptr) : json::value(models.front().id);
  out["last_id"] = models.empty() ? json::value(nullptr) : json::value(models.back().id);
  return json::serialize(out);
}

std::string model_body(const common::ModelInfo& model) {
  return json::serialize(model_object(model));
}

}  // namespace anygpt::formats::anthropic
