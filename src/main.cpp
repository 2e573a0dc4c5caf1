// anygpt: wiring only. Reads configuration and data files, starts the HTTP server and the
// background writer, and drains gracefully on SIGTERM/SIGINT.
#include <sys/resource.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "auth/key_registry.hpp"
#include "config/config.hpp"
#include "core/log.hpp"
#include "pipeline/housekeeper.hpp"
#include "pipeline/shared_state.hpp"
#include "providers/registry.hpp"
#include "routes/api_route.hpp"
#include "server/stop_signals.hpp"

namespace {
using namespace anygpt;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "anygpt: %s\n", message.c_str());
  std::exit(1);
}

std::map<std::string, std::string> read_dotenv() {
  std::ifstream in(".env");
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  return config::parse_dotenv(ss.str());
}

template <class T>
T must(core::Result<T> r) {
  if (!r) die(r.error().message);
  return std::move(r.value());
}

// Creates the first admin key when none exists (DEFAULT_ADMIN_* or a random key, printed once).
void ensure_admin(pipeline::Gateway& gw) {
  const auto& cfg = gw.config;
  if (!cfg.default_admin_api_key.empty() && gw.keys->find(cfg.default_admin_api_key)) return;
  if (cfg.default_admin_api_key.empty() && gw.keys->has_admin()) return;
  config::KeyRecord rec;
  rec.user_id = cfg.default_admin_user_id.empty() ? "initial_admin_user" : cfg.default_admin_user_id;
  rec.role = "admin";
  auto tiers = gw.tiers.load();
  rec.tier = tiers->count("enterprise") ? "enterprise" : tiers->begin()->first;
  rec.api_key = cfg.default_admin_api_key.empty() ? auth::generate_api_key() : cfg.default_admin_api_key;
  bool added = gw.shared ? gw.shared->add_key(rec) : gw.keys->add(rec);
  if (!added) {
    core::log(core::LogLevel::kWarn,
              "admin user '" + rec.user_id + "' already exists with another key; not creating one");
    return;
  }
  auto doc = config::keys_to_json(gw.keys->records());
  if (auto err = gw.data_dir.write_atomic("keys.json", store::pretty_json(doc))) die(err->message);
  gw.keys->take_dirty();
  if (cfg.default_admin_api_key.empty()) {
    std::printf(
        "==================================================================\n"
        " anygpt created an admin key for user '%s' (shown only once):\n %s\n"
        "==================================================================\n",
        rec.user_id.c_str(), rec.api_key.c_str());
  } else {
    std::printf("anygpt: created admin user '%s' with DEFAULT_ADMIN_API_KEY\n", rec.user_id.c_str());
  }
  std::fflush(stdout);
}

routing::HealthPolicy health_policy(const config::Config& c) {
  routing::HealthPolicy p;
  p.ema.half_life = std::chrono::milliseconds(c.health_half_life_ms);
  p.model_breaker.failure_threshold = c.breaker_failure_threshold;
  p.model_breaker.cooldown = std::chrono::milliseconds(c.breaker_cooldown_ms);
  p.model_breaker.max_cooldown = std::chrono::milliseconds(c.breaker_max_cooldown_ms);
  // Bad credentials do not fix themselves quickly: probe a provider that refused them less often.
  p.provider_breaker.cooldown = std::max(p.model_breaker.cooldown, std::chrono::milliseconds(60000));
  p.provider_breaker.max_cooldown = std::max(p.model_breaker.max_cooldown, p.provider_breaker.cooldown);
  p.provider_auto_disable = !c.disable_provider_auto_disable;
  p.disable_provider_after_models = c.disable_provider_after_models;
  return p;
}

// Redis settings from REDIS_URL overlaid with REDIS_USERNAME / PASSWORD / DB / TLS.
store::redis::Options redis_options(const config::Config& c) {
  auto opts = store::redis::parse_url(c.redis_url);
  if (!opts) die("configuration error: REDIS_URL: " + opts.error().message);
  if (!c.redis_username.empty()) opts->username = c.redis_username;
  if (!c.redis_password.empty()) opts->password = c.redis_password;
  if (c.redis_db >= 0) opts->db = c.redis_db;
  if (c.redis_tls) opts->tls = true;
  opts->command_timeout = std::chrono::milliseconds(1000);
  return *opts;
}

// Reads the data files (creating missing ones). In Redis mode the shared keys, providers and
// models replace the files' (imported into Redis on first use) and are mirrored into the files,
// so a later start without Redis serves the same data.
void load_data(pipeline::Gateway& gw, pipeline::SharedState* shared) {
  const auto& dir = gw.data_dir;
  ::mkdir(dir.path().c_str(), 0755);
  auto tiers_doc = must(dir.load_or_create("tiers.json", config::default_tiers_json()));
  auto keys_doc = must(dir.load_or_create("keys.json", config::default_keys_json()));
  auto providers_doc = must(dir.load_or_create("providers.json", config::default_providers_json()));
  auto models_doc = must(dir.load_or_create("models.json", config::default_models_json()));
  auto excluded_doc = must(dir.load_or_create("excluded-errors.json", config::default_excluded_errors_json()));
  auto tiers = must(config::tiers_from_json(tiers_doc));
  if (tiers.empty()) die(dir.file("tiers.json") + ": defines no tier");
  gw.tiers.store(std::make_shared<const pipeline::Tiers>(std::move(tiers)));
  auto keys = must(config::keys_from_json(keys_doc));
  if (shared) {
    auto init = shared->load(pipeline::LocalData{keys, providers_doc, models_doc}, std::chrono::seconds(3));
    if (!init) {
      core::log(core::LogLevel::kWarn, "redis unreachable at start (" + init.error().message +
                                           "): serving from the data files; will reconcile when it is back");
    } else {
      keys = std::move(init->keys);
      providers_doc = std::move(init->providers);
      models_doc = std::move(init->models);
      if (auto err = dir.write_atomic("providers.json", store::pretty_json(providers_doc)))
        core::log(core::LogLevel::kWarn, "cannot mirror providers.json: " + err->message);
      if (auto err = dir.write_atomic("models.json", store::pretty_json(models_doc)))
        core::log(core::LogLevel::kWarn, "cannot mirror models.json: " + err->message);
    }
  }
  gw.keys = std::make_unique<auth::KeyRegistry>(keys);
  if (shared) gw.keys->mark_dirty();  // mirror the shared keys into keys.json
  gw.excluded_errors.store(std::make_shared<const pipeline::ExcludedErrors>(
      pipeline::lower_patterns(must(config::excluded_patterns_from_json(excluded_doc)))));
  std::vector<std::string> warnings;
  gw.providers = must(config::providers_from_json(providers_doc));
  auto catalog = std::make_shared<const routing::Catalog>(gw.providers, must(config::models_from_json(models_doc)),
                                                          static_cast<std::int64_t>(std::time(nullptr)), warnings,
                                                          &providers::codec_for);
  for (const auto& w : warnings) core::log(core::LogLevel::kWarn, w);
  gw.health = std::make_unique<routing::HealthBoard>(catalog->provider_count(), catalog->slot_seeds(),
                                                     health_policy(gw.config), routing::Clock::now());
  gw.catalog.store(catalog);
  gw.retry.max_retry_after = std::chrono::milliseconds(gw.config.routing_max_retry_after_ms);
  if (catalog->provider_count() == 0)
    core::log(core::LogLevel::kWarn, "providers.json has no provider: chat requests will answer 404 model_not_found");
}

// MAX_CONNECTIONS=0: raises the soft open-file limit to the hard one, then allows half of it
// to client connections (each may hold an upstream connection too), less a reserve for files.
int connection_cap_from_fd_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  const auto files = static_cast<std::int64_t>(std::min<rlim_t>(lim.rlim_cur, 1 << 22));
  return static_cast<int>(std::max<std::int64_t>(64, (files - 128) / 2));
}

}  // namespace

int main(int argc, char** argv) {
  server::StopSignals stop_signals;  // first: before any thread (the logger included) starts
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(config::help_text().c_str(), stdout);
      return 0;
    }
    die("unknown argument '" + a + "' (see --help)");
  }
  auto dotenv = read_dotenv();
  auto cfg = config::load_config([&dotenv](std::string_view name) -> std::optional<std::string> {
    std::string n(name);
    if (const char* v = std::getenv(n.c_str())) return std::string(v);
    if (auto it = dotenv.find(n); it != dotenv.end()) return it->second;
    return std::nullopt;
  });
  if (!cfg) die("configuration error: " + cfg.error().message);
  core::set_log_level(cfg->log_level);
  core::set_error_log(cfg->data_dir + "/logs/api-error.jsonl", cfg->error_log_max_bytes);

  pipeline::Gateway gw(*cfg);
  auto tls = upstream::make_tls_context();
  std::unique_ptr<pipeline::SharedState> shared;
  if (gw.config.data_source == config::DataSource::kRedis)
    shared = std::make_unique<pipeline::SharedState>(gw, redis_options(gw.config), tls);
  load_data(gw, shared.get());
  gw.shared = shared.get();
  ensure_admin(gw);
  if (shared) {
    gw.health->set_open_listener(
        [s = shared.get()](const std::string& provider, const std::string& model, std::chrono::milliseconds duration) {
          s->circuit_opened(provider, model, duration);
        });
    shared->start();
  }

  pipeline::Housekeeper housekeeper(gw, std::chrono::milliseconds(gw.config.flush_interval_ms),
                                    std::chrono::milliseconds(gw.config.model_caps_refresh_ms));
  gw.request_flush = [&housekeeper] { housekeeper.request(); };
  gw.refresh_models = [&housekeeper] { housekeeper.request_models(); };

  server::ServerOptions sopt;
  sopt.host = gw.config.host;
  sopt.port = gw.config.port;
  sopt.threads = gw.config.worker_threads;
  sopt.max_body_bytes = gw.config.max_body_bytes;
  sopt.keep_alive_idle_ms = gw.config.keep_alive_timeout_ms;
  sopt.header_timeout_ms = gw.config.client_header_timeout_ms;
  sopt.body_timeout_ms = gw.config.client_body_timeout_ms;
  sopt.body_min_rate = gw.config.client_body_min_rate;
  sopt.write_timeout_ms = gw.config.client_write_timeout_ms;
  sopt.max_connections = gw.config.max_connections > 0 ? gw.config.max_connections : connection_cap_from_fd_limit();
  sopt.max_unauthenticated_per_ip = gw.config.max_unauthenticated_connections_per_ip;
  sopt.cors = {gw.config.cors_origin, gw.config.cors_methods, gw.config.cors_headers};
  auto table = routes::all_routes(gw);
  server::HttpServer server(sopt, routes::error_renderer(table));
  for (auto& r : table.routes) server.add_route({r.method, r.path, r.handler, r.streams_body});
  gw.connection_stats = [&server] { return server.connection_stats(); };

  upstream::ClientOptions copt;
  copt.timeouts.connect = std::chrono::milliseconds(gw.config.upstream_connect_timeout_ms);
  copt.timeouts.first_byte = std::chrono::milliseconds(gw.config.upstream_first_byte_timeout_ms);
  copt.timeouts.idle = std::chrono::milliseconds(gw.config.upstream_idle_timeout_ms);
  copt.timeouts.total = std::chrono::milliseconds(gw.config.upstream_timeout_ms);
  copt.max_idle_per_host = static_cast<std::size_t>(gw.config.upstream_pool_size);
  std::uint16_t port = 0;
  try {
    port = server.start([tls, copt](boost::asio::io_context& ioc) {
      // One upstream client per event-loop thread, alive as long as the thread.
      thread_local std::unique_ptr<upstream::Client> client;
      client = std::make_unique<upstream::Client>(ioc, tls, copt);
      pipeline::set_thread_client(client.get());
    });
  } catch (const std::exception& e) {
    die("cannot listen on " + gw.config.host + ":" + std::to_string(gw.config.port) + ": " + e.what());
  }
  gw.ready.store(true);
  std::printf("anygpt listening on http://%s:%u (data: %s)\n", gw.config.host.c_str(), port,
              gw.data_dir.path().c_str());
  std::fflush(stdout);

  int sig = stop_signals.wait();
  core::log(core::LogLevel::kInfo, sig == SIGTERM ? "SIGTERM: draining" : "SIGINT: draining");
  gw.ready.store(false);
  server.drain();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(gw.config.shutdown_timeout_ms);
  while (server.in_flight() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (server.in_flight() > 0)
    core::log(core::LogLevel::kWarn,
              "shutdown deadline reached; cutting " + std::to_string(server.in_flight()) + " request(s)");
  server.stop();
  if (shared) shared->stop();  // pushes the last usage to Redis
  housekeeper.stop();
  core::log(core::LogLevel::kInfo, "stopped");
  core::flush_log();
  return 0;
}
