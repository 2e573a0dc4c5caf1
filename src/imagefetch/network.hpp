// imagefetch/network: how the fetcher reaches the network, and the process-wide cap on fetches.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace anygpt::imagefetch {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// Name resolution, and where a checked endpoint is dialled. The fetcher resolves a name once per
// hop, checks every address, and connects to exactly those addresses (no second lookup, so no
// DNS-rebinding window). SystemNetwork is the real one; tests substitute names and route fake
// public addresses to loopback servers through dial_endpoint.
class Network {
 public:
  virtual ~Network() = default;
  // Every address `host` resolves to, or a kFailedCode error; gives up at `deadline`.
  virtual asio::awaitable<core::Result<std::vector<asio::ip::address>>> resolve(const std::string& host,
                                                                                Clock::time_point deadline) = 0;
  // The endpoint actually dialled for a checked one (the real network: itself).
  virtual asio::ip::tcp::endpoint dial_endpoint(const asio::ip::tcp::endpoint& checked) const { return checked; }
};

// getaddrinfo() on its own small thread pool: a slow or hostile name server stalls neither the
// event loop nor the providers' name lookups (Asio's resolver thread), and a lookup that outlives
// the fetch's deadline is abandoned (its late result is dropped). Thread-safe; process-wide.
class SystemNetwork : public Network {
 public:
  explicit SystemNetwork(std::size_t threads = 2) : pool_(threads) {}
  asio::awaitable<core::Result<std::vector<asio::ip::address>>> resolve(const std::string& host,
                                                                        Clock::time_point deadline) override;

 private:
  asio::thread_pool pool_;
};

// A one-shot wake-up from any thread for one coroutine waiting on its own thread until a deadline.
// Shared (shared_ptr) by the waiter and whoever wakes it, so a late wake-up finds it alive.
class Waiter : public std::enable_shared_from_this<Waiter> {
 public:
  explicit Waiter(asio::any_io_executor executor) : timer_(std::move(executor)) {}
  // REQUIRES: on the executor's thread, once. True when woken, false when the deadline came first.
  asio::awaitable<bool> wait(Clock::time_point deadline);
  // Any thread; a wake-up before wait() is kept.
  void wake();

 private:
  asio::steady_timer timer_;
  bool woken_ = false;  // touched on the executor's thread only
};

// The process-wide cap on image fetches in flight (IMAGE_FETCH_MAX_CONCURRENCY). Thread-safe:
// a fetch on any event-loop thread takes a slot, waiting in FIFO order while all are taken.
class FetchSlots {
 public:
  explicit FetchSlots(std::size_t max) : max_(max) {}
  // True with a slot taken (give it back with release()); false when none freed by `deadline`.
  asio::awaitable<bool> acquire(Clock::time_point deadline);
  void release();

 private:
  struct Queued {
    explicit Queued(std::shared_ptr<Waiter> w) : waiter(std::move(w)) {}
    std::shared_ptr<Waiter> waiter;
    bool granted = false;  // under mu_
  };
  std::mutex mu_;
  std::size_t max_;
  std::size_t used_ = 0;
  std::deque<std::shared_ptr<Queued>> queue_;
};

}  // namespace anygpt::imagefetch
