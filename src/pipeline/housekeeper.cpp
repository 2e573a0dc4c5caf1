#include "pipeline/housekeeper.hpp"

#include <sys/stat.h>

#include <ctime>

#include "core/log.hpp"
#include "providers/registry.hpp"
#include "routing/model_updater.hpp"
#include "routing/provider_stats.hpp"

namespace anygpt::pipeline {

namespace {
// Identifies a version of a file cheaply (no read): modification time and size.
std::string file_stamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
         std::to_string(st.st_size);
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Housekeeper::Housekeeper(Gateway& gw, std::chrono::milliseconds interval, std::chrono::milliseconds models_interval)
    : gw_(gw),
      interval_(interval),
      models_interval_(models_interval),
      tiers_stamp_(file_stamp(gw.data_dir.file("tiers.json"))),
      excluded_stamp_(file_stamp(gw.data_dir.file("excluded-errors.json"))),
      next_models_(std::chrono::steady_clock::now()),
      thread_([this] { run(); }) {}

Housekeeper::~Housekeeper() {
  stop();
}

void Housekeeper::request() {
  {
    std::lock_guard lock(mu_);
    requested_ = true;
  }
  cv_.notify_one();
}

void Housekeeper::request_models() {
  {
    std::lock_guard lock(mu_);
    models_requested_ = true;
  }
  cv_.notify_one();
}

void Housekeeper::stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Housekeeper::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait_for(lock, interval_, [this] { return stop_ || requested_ || models_requested_; });
    bool stopping = stop_;
    bool models_now = models_requested_ || std::chrono::steady_clock::now() >= next_models_;
    requested_ = false;
    models_requested_ = false;
    lock.unlock();
    flush_keys();
    flush_stats();
    reload_tiers_if_changed();
    reload_excluded_if_changed();
    if (models_now && !stopping) {
      refresh_models();
      next_models_ = std::chrono::steady_clock::now() + models_interval_;
    }
    lock.lock();
    if (stopping) return;
  }
}

void Housekeeper::reload_tiers_if_changed() {
  auto path = gw_.data_dir.file("tiers.json");
  auto stamp = file_stamp(path);
  if (stamp.empty() || stamp == tiers_stamp_) return;
  tiers_stamp_ = stamp;
  auto doc = gw_.data_dir.load("tiers.json");
  core::Result<Tiers> tiers = doc ? config::tiers_from_json(*doc) : core::Result<Tiers>(doc.error());
  if (tiers && tiers->empty()) tiers = core::make_error(core::ErrorKind::kInvalidRequest, path + ": defines no tier");
  if (!tiers) {
    core::log(core::LogLevel::kError,
              "tiers.json changed but cannot be used; keeping the previous tiers: " + tiers.error().message);
    return;
  }
  gw_.tiers.store(std::make_shared<const Tiers>(std::move(*tiers)));
  core::log(core::LogLevel::kInfo, "tiers.json reloaded (" + std::to_string(gw_.tiers.load()->size()) + " tiers)");
}

void Housekeeper::reload_excluded_if_changed() {
  auto stamp = file_stamp(gw_.data_dir.file("excluded-errors.json"));
  if (stamp.empty() || stamp == excluded_stamp_) return;
  excluded_stamp_ = stamp;
  auto doc = gw_.data_dir.load("excluded-errors.json");
  auto patterns = doc ? config::excluded_patterns_from_json(*doc) : core::Result<std::vector<std::string>>(doc.error());
  if (!patterns) {
    core::log(
        core::LogLevel::kError,
        "excluded-errors.json changed but cannot be used; keeping the previous patterns: " + patterns.error().message);
    return;
  }
  gw_.excluded_errors.store(std::make_shared<const ExcludedErrors>(lower_patterns(std::move(*patterns))));
  core::log(core::LogLevel::kInfo, "excluded-errors.json reloaded");
}

void Housekeeper::flush_keys() {
  if (!gw_.keys->take_dirty()) return;
  auto doc = config::keys_to_json(gw_.keys->records());
  if (auto err = gw_.data_dir.write_atomic("keys.json", store::pretty_json(doc))) {
    core::log(core::LogLevel::kError, "keys.json flush failed; will retry: " + err->message);
    // Mark dirty again so the next round retries.
    gw_.keys->mark_dirty();
  }
}

// Health lives in memory; the file gets it in the original's fields, at most once per interval.
// The file is re-read each time so a hand edit made meanwhile is kept, not overwritten.
void Housekeeper::flush_stats() {
  if (!gw_.health->take_dirty()) return;
  auto stats = gw_.health->snapshot(routing::Clock::now());
  auto doc = gw_.data_dir.load("providers.json");
  if (!doc) {
    core::log(core::LogLevel::kError, "provider stats not written: " + doc.error().message);
    return;
  }
  if (!routing::apply_stats(*doc, stats)) return;
  if (auto err = gw_.data_dir.write_atomic("providers.json", store::pretty_json(*doc)))
    core::log(core::LogLevel::kError, "providers.json stats flush failed: " + err->message);
}

void Housekeeper::refresh_models() {
  auto path = gw_.data_dir.file("models.json");
  auto doc = gw_.data_dir.load("models.json");
  if (!doc) {
    core::log(core::LogLevel::kError,
              "models.json cannot be used; keeping the previous models: " + doc.error().message);
    gw_.models_generation.fetch_add(1);
    return;
  }
  auto catalog = gw_.catalog.load();
  bool changed = routing::refresh_models_doc(*doc, catalog->provider_counts(), now_ms());
  if (changed) {
    if (auto err = gw_.data_dir.write_atomic("models.json", store::pretty_json(*doc)))
      core::log(core::LogLevel::kError, "models.json refresh not written: " + err->message);
  }
  auto stamp = file_stamp(path);
  if (changed || stamp != models_stamp_) {
    auto models = config::models_from_json(*doc);
    if (!models) {
      core::log(core::LogLevel::kError,
                "models.json cannot be used; keeping the previous models: " + models.error().message);
    } else {
      std::vector<std::string> warnings;
      gw_.catalog.store(std::make_shared<const routing::Catalog>(gw_.providers, std::move(*models),
                                                                 static_cast<std::int64_t>(std::time(nullptr)),
                                                                 warnings, &providers::codec_for));
    }
  }
  models_stamp_ = stamp;
  gw_.models_generation.fetch_add(1);
}

}  // namespace anygpt::pipeline
