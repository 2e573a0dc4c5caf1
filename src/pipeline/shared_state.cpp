#include "pipeline/shared_state.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <set>

#include "core/log.hpp"
#include "store/redis/layout.hpp"

namespace anygpt::pipeline {
namespace asio = boost::asio;
namespace json = boost::json;
namespace rl = store::redis;
using core::ErrorKind;
using core::make_error;

namespace {

std::string random_instance_id() {
  return auth::generate_api_key().substr(0, 12);
}

std::string s(std::string_view v) {
  return std::string(v);
}

asio::awaitable<void> sleep_for(asio::steady_timer& timer, std::chrono::milliseconds d) {
  timer.expires_after(d);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// HGETALL reply -> pairs.
std::vector<std::pair<std::string, std::string>> pairs_of(const rl::Reply& r) {
  std::vector<std::pair<std::string, std::string>> out;
  if (r.type != rl::Reply::Type::kArray) return out;
  for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) out.emplace_back(r.elements[i].str, r.elements[i + 1].str);
  return out;
}

std::int64_t to_int(const std::string& v) {
  std::int64_t n = 0;
  std::from_chars(v.data(), v.data() + v.size(), n);  // a malformed counter reads as 0
  return n;
}

json::value parse_or(const std::string& text, json::value fallback) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? fallback : v;
}

}  // namespace

struct SharedState::Lease {
  std::string digest;
  limits::RateLimits limits;
  std::int64_t want = 1;
  std::function<void(std::optional<limits::Grant>)> done;
};

struct SharedState::Read {
  std::string key;
  std::function<void(std::optional<Record>)> done;
};

// A usage batch: deltas taken from the counters, sent until Redis acknowledges them.
struct SharedState::Batch {
  struct Item {
    std::shared_ptr<const auth::KeyEntry> key;
    std::string digest;
    std::int64_t tokens, requests;
  };
  std::uint64_t seq = 0;
  std::vector<Item> items;
};

SharedState::SharedState(Gateway& gw, rl::Options options, std::shared_ptr<asio::ssl::context> tls)
    : gw_(gw), options_(std::move(options)), instance_(random_instance_id()) {
  conn_ = std::make_unique<rl::Connection>(ioc_, options_, tls);
  sub_ = std::make_unique<rl::Connection>(ioc_, options_, tls);
  timer_ = std::make_unique<asio::steady_timer>(ioc_);
}

SharedState::~SharedState() {
  stop();
}

asio::awaitable<core::Result<SharedState::Initial>> SharedState::load_shared(const LocalData& files) {
  {
    auto connected = co_await conn_->connect();
    if (!connected) co_return connected.error();
    // (Commands are built before co_await: GCC 12 miscompiles braced lists inside co_await.)
    const std::vector<std::string> get_meta{"HGET", s(rl::kMetaKey), "schema"};
    auto meta = co_await conn_->command(get_meta);
    if (!meta) co_return meta.error();
    if (meta->type == rl::Reply::Type::kNil) {
      // First start on this Redis: import the original's hash if there is one, else the files.
      std::vector<config::KeyRecord> keys = files.keys;
      json::value providers = files.providers, models = files.models;
      std::string source = "files";
      const std::vector<std::string> get_legacy{"HGETALL", s(rl::kLegacyKey)};
      auto legacy = co_await conn_->command(get_legacy);
      if (!legacy) co_return legacy.error();
      auto fields = pairs_of(*legacy);
      if (!fields.empty()) {
        source = "api:data";
        for (const auto& [name, value] : fields) {
          if (name == "k") {
            auto parsed = config::keys_from_json(parse_or(value, json::object()));
            if (parsed) keys = std::move(*parsed);
          } else if (name == "p") {
            providers = parse_or(value, providers);
          } else if (name == "m") {
            models = parse_or(value, models);
          }
        }
      }
      std::vector<std::vector<std::string>> cmds;
      for (const auto& k : keys) {
        auto d = auth::digest_hex(auth::key_digest(k.api_key));
        cmds.push_back({"HSET", s(rl::kKeysKey), d, rl::encode_key_record(k)});
        cmds.push_back({"HSET", s(rl::kUsageKey), d + ":t", std::to_string(k.token_usage), d + ":r",
                        std::to_string(k.request_count)});
      }
      cmds.push_back({"SET", s(rl::kProvidersKey), json::serialize(providers)});
      cmds.push_back({"SET", s(rl::kModelsKey), json::serialize(models)});
      cmds.push_back({"HSET", s(rl::kMetaKey), "schema", s(rl::kSchemaVersion), "imported_from", source});
      auto wrote = co_await conn_->pipeline(cmds);
      if (!wrote) co_return wrote.error();
      core::log(core::LogLevel::kInfo, "redis: imported " + std::to_string(keys.size()) + " keys from " + source);
    }
    const std::vector<std::vector<std::string>> read_all{{"HGETALL", s(rl::kKeysKey)},
                                                         {"HGETALL", s(rl::kUsageKey)},
                                                         {"GET", s(rl::kProvidersKey)},
                                                         {"GET", s(rl::kModelsKey)}};
    auto all = co_await conn_->pipeline(read_all);
    if (!all) co_return all.error();
    Initial init;
    std::map<std::string, std::int64_t> usage;
    for (auto& [f, v] : pairs_of((*all)[1])) usage[f] = to_int(v);
    for (const auto& [digest, text] : pairs_of((*all)[0])) {
      auto rec = rl::decode_key_record(text);
      if (!rec) {
        core::log(core::LogLevel::kWarn, "redis: skipped an unreadable key record: " + rec.error().message);
        continue;
      }
      rec->token_usage = usage[digest + ":t"];
      rec->request_count = usage[digest + ":r"];
      init.keys.push_back(std::move(*rec));
    }
    init.providers =
        (*all)[2].type == rl::Reply::Type::kString ? parse_or((*all)[2].str, files.providers) : files.providers;
    init.models = (*all)[3].type == rl::Reply::Type::kString ? parse_or((*all)[3].str, files.models) : files.models;
    co_return init;
  }
}

asio::awaitable<void> SharedState::load_into(const LocalData& files, std::optional<core::Result<Initial>>& out) {
  auto loaded = co_await load_shared(files);
  out.emplace(std::move(loaded));
}

core::Result<SharedState::Initial> SharedState::load(const LocalData& files, std::chrono::milliseconds wait) {
  std::optional<core::Result<Initial>> out;
  asio::co_spawn(ioc_, load_into(files, out), asio::detached);
  ioc_.run_for(wait);
  if (!out) {
    conn_->close();  // cancels what is pending: the coroutine ends with an error
    ioc_.restart();
    ioc_.run();
  }
  ioc_.restart();
  if (!out || !*out)
    return out && !*out ? out->error()
                        : make_error(ErrorKind::kUpstreamTimeout,
                                     "redis: no answer within " + std::to_string(wait.count()) + " ms");
  up_.store(true);
  return std::move(*out);
}

void SharedState::start() {
  asio::co_spawn(ioc_, run(), asio::detached);
  asio::co_spawn(ioc_, listen(), asio::detached);
  thread_ = std::thread([this] { ioc_.run(); });
}

void SharedState::stop() {
  if (stopping_.exchange(true)) return;
  wake();
  if (thread_.joinable()) thread_.join();
}

SharedState::Metrics SharedState::metrics() const {
  std::lock_guard lock(mu_);
  auto m = metrics_;
  m.up = up();
  m.pending_ops = static_cast<std::int64_t>(ops_.size());
  return m;
}

void SharedState::wake() {
  asio::post(ioc_, [this] { timer_->cancel(); });
}

bool SharedState::add_key(const config::KeyRecord& record) {
  auto d = auth::digest_hex(auth::key_digest(record.api_key));
  rl::Event e;
  e.kind = rl::Event::Kind::kKeyAdded;
  e.origin = instance_;
  e.digest = d;
  {
    std::lock_guard lock(mu_);  // with pull_all's removal pass: both see the key, or neither
    if (!gw_.keys->add(record)) return false;
    ops_.push_back({"HSET", s(rl::kKeysKey), d, rl::encode_key_record(record)});
    ops_.push_back({"PUBLISH", s(rl::kEventsChannel), rl::encode_event(e)});
  }
  wake();
  return true;
}

void SharedState::key_removed(const std::string& api_key) {
  auto d = auth::digest_hex(auth::key_digest(api_key));
  rl::Event e;
  e.kind = rl::Event::Kind::kKeyRemoved;
  e.origin = instance_;
  e.digest = d;
  {
    std::lock_guard lock(mu_);
    ops_.push_back({"HDEL", s(rl::kKeysKey), d});
    ops_.push_back({"HDEL", s(rl::kUsageKey), d + ":t", d + ":r"});
    ops_.push_back({"PUBLISH", s(rl::kEventsChannel), rl::encode_event(e)});
  }
  wake();
}

void SharedState::circuit_opened(const std::string& provider, const std::string& model,
                                 std::chrono::milliseconds duration) {
  rl::Event e;
  e.kind = rl::Event::Kind::kCircuitOpen;
  e.origin = instance_;
  e.provider = provider;
  e.model = model;
  e.for_ms = duration.count();
  {
    std::lock_guard lock(mu_);
    ops_.push_back({"PUBLISH", s(rl::kEventsChannel), rl::encode_event(e)});
  }
  wake();  // the others should stop calling it now, not at the next sync
}

void SharedState::error_logged(std::string line) {
  if (!gw_.config.error_log_to_redis) return;
  std::lock_guard lock(mu_);
  ops_.push_back({"LPUSH", gw_.config.redis_error_log_key, std::move(line)});
  ops_.push_back(
      {"LTRIM", gw_.config.redis_error_log_key, "0", std::to_string(gw_.config.redis_error_log_max_entries - 1)});
}

// Queues `w` on `queue` for the loop thread, counted in `counter`; the returned awaitable resumes
// on the caller's executor with what the loop hands `w->done`. (A plain function, not a
// coroutine: GCC 12 destroys a lambda's captures twice when the lambda is a temporary inside a
// co_await expression.)
template <class Answer, class Waiter>
asio::awaitable<Answer> SharedState::enqueue(std::shared_ptr<Waiter> w, std::vector<std::shared_ptr<Waiter>>& queue,
                                             std::uint64_t& counter) {
  auto initiation = [this, w = std::move(w), &queue, &counter](auto handler) {
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    w->done = [h](Answer answer) {
      auto ex = asio::get_associated_executor(*h);
      asio::post(ex, [h, answer = std::move(answer)]() mutable { std::move (*h)(std::move(answer)); });
    };
    {
      std::lock_guard lock(mu_);
      queue.push_back(w);
      ++counter;
    }
    wake();
  };
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Answer)>(std::move(initiation), asio::use_awaitable);
}

// Answers every waiter "Redis could not be asked" (nullopt), counted in `failures`.
template <class Waiter>
void SharedState::fail_all(std::vector<std::shared_ptr<Waiter>>& waiters, std::uint64_t& failures) {
  {
    std::lock_guard lock(mu_);
    failures += waiters.size();
  }
  for (auto& w : waiters) w->done(std::nullopt);
  waiters.clear();
}

void SharedState::fail_leases(std::vector<std::shared_ptr<Lease>>& leases) {
  fail_all(leases, metrics_.lease_failures);
}

void SharedState::fail_reads(std::vector<std::shared_ptr<Read>>& reads) {
  fail_all(reads, metrics_.record_read_failures);
}

asio::awaitable<std::optional<limits::Grant>> SharedState::lease(std::string digest_hex, limits::RateLimits limits,
                                                                 std::int64_t want) {
  if (!up()) co_return std::nullopt;
  auto l = std::make_shared<Lease>();
  l->digest = std::move(digest_hex);
  l->limits = limits;
  l->want = want;
  auto op = enqueue<std::optional<limits::Grant>>(std::move(l), leases_, metrics_.lease_requests);
  auto grant = co_await std::move(op);
  co_return grant;
}

void SharedState::put_record(std::string key, const auth::Digest& owner, Fields fields, std::chrono::milliseconds ttl) {
  if (!up()) return;
  std::vector<std::string> hset{"HSET", key, s(rl::kRecordKeyField), auth::digest_hex(owner)};
  for (auto& [name, value] : fields) {
    hset.push_back(std::move(name));
    hset.push_back(std::move(value));
  }
  {
    std::lock_guard lock(mu_);
    ops_.push_back(std::move(hset));
    ops_.push_back({"PEXPIRE", std::move(key), std::to_string(std::max<std::int64_t>(1, ttl.count()))});
  }
  wake();
}

std::string SharedState::Record::field(std::string_view name) const {
  for (const auto& [n, v] : fields)
    if (n == name) return v;
  return {};
}

asio::awaitable<std::optional<SharedState::Record>> SharedState::get_record(std::string key, auth::Digest owner) {
  if (!up()) co_return std::nullopt;
  auto r = std::make_shared<Read>();
  r->key = std::move(key);
  auto op = enqueue<std::optional<Record>>(std::move(r), reads_, metrics_.record_reads);
  auto record = co_await std::move(op);
  // (Digests of keys, not keys: no need for a constant-time comparison.)
  if (record && (record->fields.empty() || record->field(rl::kRecordKeyField) != auth::digest_hex(owner)))
    record.reset();
  co_return record;
}

void SharedState::on_event(std::string_view payload) {
  auto e = rl::decode_event(payload);
  if (!e || e->origin == instance_) return;
  switch (e->kind) {
    case rl::Event::Kind::kKeyAdded: {
      std::lock_guard lock(mu_);
      fetch_keys_.push_back(e->digest);
      break;
    }
    case rl::Event::Kind::kKeyRemoved:
      if (auto d = auth::digest_from_hex(e->digest)) gw_.keys->remove_digest(*d);
      return;
    case rl::Event::Kind::kCircuitOpen:
      gw_.health->force_open(e->provider, e->model, std::chrono::milliseconds(e->for_ms), routing::Clock::now());
      return;
  }
  wake();
}

// One round trip carrying everything due: lease requests, queued changes, keys to read and the
// usage batch. Returns false when Redis failed (the batch and the changes are kept for later).
asio::awaitable<bool> SharedState::exchange() {
  std::vector<std::shared_ptr<Lease>> leases;
  std::vector<std::shared_ptr<Read>> reads;
  std::vector<std::vector<std::string>> cmds;
  std::vector<std::string> fetch;
  std::size_t op_count = 0;
  {
    std::lock_guard lock(mu_);
    leases.swap(leases_);
    reads.swap(reads_);
    fetch.swap(fetch_keys_);
    op_count = ops_.size();
    for (std::size_t i = 0; i < op_count; ++i) cmds.push_back(ops_[i]);
  }
  if (!inflight_) {
    auto batch = std::make_unique<Batch>();
    for (const auto& key : gw_.keys->entries()) {
      auto t = key->counters->unsynced_tokens.exchange(0, std::memory_order_relaxed);
      auto r = key->counters->unsynced_requests.exchange(0, std::memory_order_relaxed);
      if (t || r) batch->items.push_back({key, auth::digest_hex(auth::key_digest(key->api_key)), t, r});
    }
    if (!batch->items.empty()) {
      batch->seq = next_seq_++;
      inflight_ = std::move(batch);
    }
  }
  std::size_t lease_at = cmds.size();
  for (const auto& l : leases)
    cmds.push_back({"EVAL", rl::kLeaseScript, "1", rl::rate_key(l->digest), std::to_string(l->want),
                    std::to_string(l->limits.rps), std::to_string(l->limits.rpm), std::to_string(l->limits.rpd)});
  std::size_t fetch_at = cmds.size();
  for (const auto& d : fetch) cmds.push_back({"HGET", s(rl::kKeysKey), d});
  std::size_t read_at = cmds.size();
  for (const auto& r : reads) {
    cmds.push_back({"HGETALL", r->key});
    cmds.push_back({"PTTL", r->key});
  }
  std::size_t usage_at = cmds.size();
  if (inflight_) {
    std::vector<std::string> c{"EVAL", rl::kUsageScript, "2", rl::batch_key(instance_, inflight_->seq),
                               s(rl::kUsageKey)};
    for (const auto& it : inflight_->items) {
      c.push_back(it.digest);
      c.push_back(std::to_string(it.tokens));
      c.push_back(std::to_string(it.requests));
    }
    cmds.push_back(std::move(c));
  }
  if (cmds.empty()) co_return true;
  auto replies = co_await conn_->pipeline(cmds);
  if (!replies) {
    fail_leases(leases);
    fail_reads(reads);
    std::lock_guard lock(mu_);
    fetch_keys_.insert(fetch_keys_.end(), fetch.begin(), fetch.end());
    co_return false;
  }
  {
    std::lock_guard lock(mu_);
    ops_.erase(ops_.begin(), ops_.begin() + static_cast<std::ptrdiff_t>(op_count));
  }
  for (std::size_t i = 0; i < leases.size(); ++i) {
    const auto& r = (*replies)[lease_at + i];
    if (r.type != rl::Reply::Type::kArray || r.elements.size() < 5) {
      leases[i]->done(std::nullopt);
      continue;
    }
    limits::Grant g;
    g.units = r.elements[0].integer;
    g.retry_after = std::chrono::milliseconds(r.elements[1].integer);
    g.left = r.elements[2].integer;
    g.limit = r.elements[3].integer;
    g.reset = std::chrono::milliseconds(r.elements[4].integer);
    leases[i]->done(g);
  }
  for (std::size_t i = 0; i < reads.size(); ++i) {
    const auto& fields = (*replies)[read_at + 2 * i];
    const auto& ttl = (*replies)[read_at + 2 * i + 1];
    if (fields.type != rl::Reply::Type::kArray) {
      {
        std::lock_guard lock(mu_);
        ++metrics_.record_read_failures;
      }
      reads[i]->done(std::nullopt);
      continue;
    }
    Record rec;
    rec.fields = pairs_of(fields);
    const std::int64_t left = ttl.type == rl::Reply::Type::kInteger ? ttl.integer : 0;  // -2: gone, -1: no expiry
    if (left == -2) rec.fields.clear();
    rec.ttl = std::chrono::milliseconds(std::max<std::int64_t>(0, left));
    reads[i]->done(std::move(rec));
  }
  for (std::size_t i = 0; i < fetch.size(); ++i) {
    const auto& r = (*replies)[fetch_at + i];
    if (r.type != rl::Reply::Type::kString) continue;
    if (auto rec = rl::decode_key_record(r.str)) gw_.keys->upsert(*rec);
  }
  if (inflight_) {
    const auto& r = (*replies)[usage_at];
    if (r.type == rl::Reply::Type::kArray && r.elements.size() == 2 * inflight_->items.size()) {
      for (std::size_t i = 0; i < inflight_->items.size(); ++i) {
        auto& c = *inflight_->items[i].key->counters;
        c.token_usage.store(r.elements[2 * i].integer + c.unsynced_tokens.load(std::memory_order_relaxed));
        c.request_count.store(r.elements[2 * i + 1].integer + c.unsynced_requests.load(std::memory_order_relaxed));
      }
      inflight_.reset();
      std::lock_guard lock(mu_);
      ++metrics_.batches_pushed;
    } else {
      core::log(core::LogLevel::kError, "redis: the usage script failed: " + r.str);
    }
  }
  co_return true;
}

// Reads every key and usage total: the view of the other instances after a gap.
asio::awaitable<bool> SharedState::pull_all() {
  const std::vector<std::vector<std::string>> read_all{{"HGETALL", s(rl::kKeysKey)}, {"HGETALL", s(rl::kUsageKey)}};
  auto all = co_await conn_->pipeline(read_all);
  if (!all) co_return false;
  std::map<std::string, std::int64_t> usage;
  for (auto& [f, v] : pairs_of((*all)[1])) usage[f] = to_int(v);
  std::set<std::string> shared;
  for (const auto& [digest, text] : pairs_of((*all)[0])) {
    shared.insert(digest);
    auto rec = rl::decode_key_record(text);
    if (!rec) continue;
    if (!gw_.keys->find(rec->api_key)) gw_.keys->upsert(*rec);
  }
  {
    // Keys Redis does not have were revoked meanwhile, unless this instance created them and
    // their write is still queued (add_key holds the same lock while adding and queueing).
    std::lock_guard lock(mu_);
    std::set<std::string> pending;
    for (const auto& op : ops_)
      if (op.size() >= 3 && op[0] == "HSET" && op[1] == rl::kKeysKey) pending.insert(op[2]);
    for (const auto& key : gw_.keys->entries()) {
      auto d = auth::digest_hex(auth::key_digest(key->api_key));
      if (!shared.count(d) && !pending.count(d)) gw_.keys->remove_digest(auth::key_digest(key->api_key));
    }
  }
  for (const auto& key : gw_.keys->entries()) {
    auto d = auth::digest_hex(auth::key_digest(key->api_key));
    if (!shared.count(d)) continue;
    auto& c = *key->counters;
    std::int64_t t = usage[d + ":t"], r = usage[d + ":r"];
    if (inflight_)
      for (const auto& it : inflight_->items)
        if (it.digest == d) {
          t += it.tokens;
          r += it.requests;
        }
    c.token_usage.store(t + c.unsynced_tokens.load(std::memory_order_relaxed));
    c.request_count.store(r + c.unsynced_requests.load(std::memory_order_relaxed));
  }
  co_return true;
}

// After (re)connecting: push what piled up, then read what the others did meanwhile.
asio::awaitable<bool> SharedState::reconcile() {
  // (co_await only as a whole statement here: GCC 12 miscompiles it inside conditions.)
  const bool pushed = co_await exchange();
  if (!pushed) co_return false;
  const bool pulled = co_await pull_all();
  co_return pulled;
}

asio::awaitable<void> SharedState::run() {
  auto backoff = std::chrono::milliseconds(100);
  const auto interval = std::chrono::milliseconds(gw_.config.redis_sync_interval_ms);
  bool need_reconcile = !up();
  for (;;) {
    bool stopping = stopping_.load();
    if (!conn_->connected() || need_reconcile) {
      bool ok = conn_->connected();
      if (!ok) {  // (no co_await inside || or ?: : GCC 12 miscompiles it)
        auto c = co_await conn_->connect();
        ok = c.ok();
      }
      if (ok) ok = co_await reconcile();
      if (!ok) {
        conn_->close();
        if (up_.exchange(false) || !warned_down_) {
          core::log(core::LogLevel::kWarn,
                    "redis unreachable: serving from local state and the files; usage is kept and pushed when it "
                    "returns");
          warned_down_ = true;
          std::lock_guard lock(mu_);
          ++metrics_.disconnects;
        }
        std::vector<std::shared_ptr<Lease>> leases;
        std::vector<std::shared_ptr<Read>> reads;
        {
          std::lock_guard lock(mu_);
          leases.swap(leases_);
          reads.swap(reads_);
        }
        fail_leases(leases);
        fail_reads(reads);
        if (stopping) break;
        co_await sleep_for(*timer_, backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        continue;
      }
      need_reconcile = false;
      backoff = std::chrono::milliseconds(100);
      up_.store(true);
      {
        std::lock_guard lock(mu_);
        ++metrics_.connects;
      }
      if (warned_down_) core::log(core::LogLevel::kInfo, "redis reachable again: usage and keys reconciled");
      warned_down_ = false;
    } else {
      bool pull = false;
      {
        std::lock_guard lock(mu_);
        pull = std::exchange(pull_requested_, false);
      }
      bool ok = co_await exchange();
      if (ok && pull) ok = co_await pull_all();
      if (!ok) {
        need_reconcile = true;
        continue;
      }
    }
    if (stopping) break;
    bool busy = false;
    {
      std::lock_guard lock(mu_);
      busy = !leases_.empty() || !reads_.empty() || !fetch_keys_.empty() || !ops_.empty();
    }
    if (!busy) co_await sleep_for(*timer_, interval);
  }
  up_.store(false);
  conn_->close();
  sub_->close();
  std::vector<std::shared_ptr<Lease>> leases;
  std::vector<std::shared_ptr<Read>> reads;
  {
    std::lock_guard lock(mu_);
    leases.swap(leases_);
    reads.swap(reads_);
  }
  fail_leases(leases);  // nobody waits past the loop
  fail_reads(reads);
}

asio::awaitable<void> SharedState::listen() {
  asio::steady_timer pause(ioc_);
  while (!stopping_.load()) {
    if (!sub_->connected()) {
      auto c = co_await sub_->connect();
      const std::vector<std::string> channels{s(rl::kEventsChannel)};
      if (c) c = co_await sub_->subscribe(channels);
      if (!c) {
        sub_->close();
        co_await sleep_for(pause, std::chrono::milliseconds(500));
        continue;
      }
      std::lock_guard lock(mu_);
      pull_requested_ = true;  // events may have been missed while not subscribed
    }
    auto m = co_await sub_->next_message(std::chrono::milliseconds(250));
    if (!m) {
      sub_->close();
      continue;
    }
    if (*m) on_event((*m)->payload);
  }
}

}  // namespace anygpt::pipeline
