#include "pipeline/housekeeper.hpp"

#include <sys/stat.h>

#include "core/log.hpp"

namespace anygpt::pipeline {

namespace {
// Identifies a version of a file cheaply (no read): modification time and size.
std::string file_stamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
         std::to_string(st.st_size);
}
}  // namespace

Housekeeper::Housekeeper(Gateway& gw, std::chrono::milliseconds interval)
    : gw_(gw),
      interval_(interval),
      tiers_stamp_(file_stamp(gw.data_dir.file("tiers.json"))),
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
    cv_.wait_for(lock, interval_, [this] { return stop_ || requested_; });
    bool stopping = stop_;
    requested_ = false;
    lock.unlock();
    flush_once();
    reload_tiers_if_changed();
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

void Housekeeper::flush_once() {
  if (!gw_.keys->take_dirty()) return;
  auto doc = config::keys_to_json(gw_.keys->records());
  if (auto err = gw_.data_dir.write_atomic("keys.json", store::pretty_json(doc))) {
    core::log(core::LogLevel::kError, "keys.json flush failed; will retry: " + err->message);
    // Mark dirty again so the next round retries.
    gw_.keys->mark_dirty();
  }
}

}  // namespace anygpt::pipeline
