// server: caps on client connections, so that slow or hostile clients cannot exhaust them.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace anygpt::server {

class ConnectionGate;

// Counters of the connection caps and deadlines, for /metrics.
struct ConnectionStats {
  int open = 0;
  std::uint64_t refused_total = 0;   // over the cap on all connections
  std::uint64_t refused_per_ip = 0;  // over the per-address cap on unauthenticated ones
  std::uint64_t timed_out = 0;       // closed by a header, body or write deadline
};

// One admitted connection's place under the caps; gives it back when destroyed.
// Move-only; used by the connection's own thread.
class ConnectionTicket {
 public:
  using Address = std::array<unsigned char, 16>;  // IPv6, or IPv4 mapped into it
  ConnectionTicket() = default;
  ConnectionTicket(ConnectionTicket&& other) noexcept;
  ConnectionTicket& operator=(ConnectionTicket&& other) noexcept;
  ConnectionTicket(const ConnectionTicket&) = delete;
  ConnectionTicket& operator=(const ConnectionTicket&) = delete;
  ~ConnectionTicket();

  // A request on this connection was authenticated: it no longer counts against its address's
  // cap on unauthenticated connections. Idempotent.
  void authenticated();

 private:
  friend class ConnectionGate;
  void release();
  ConnectionGate* gate_ = nullptr;
  Address address_{};
  bool unauthenticated_ = false;  // holds a slot of its address's cap
};

// Counts open client connections: at most `max_total` in all, and at most
// `max_unauthenticated_per_ip` per client address among connections on which no request has
// been authenticated yet (0 = no cap). Thread-safe: the total is an atomic, the per-address
// counts sit behind a mutex taken once at accept and once at authentication or close.
class ConnectionGate {
 public:
  enum class Verdict { kAdmitted, kTooManyConnections, kTooManyFromAddress };

  ConnectionGate(int max_total, int max_unauthenticated_per_ip)
      : max_total_(max_total), max_per_ip_(max_unauthenticated_per_ip) {}

  // Admits a connection from `peer` into `ticket` (left empty when refused).
  Verdict admit(const boost::asio::ip::address& peer, ConnectionTicket& ticket);

  int open() const { return open_.load(std::memory_order_relaxed); }

 private:
  friend class ConnectionTicket;
  struct AddressHash {
    std::size_t operator()(const ConnectionTicket::Address& a) const noexcept;
  };
  void release_address(const ConnectionTicket::Address& a);

  const int max_total_;
  const int max_per_ip_;
  std::atomic<int> open_{0};
  std::mutex mutex_;
  std::unordered_map<ConnectionTicket::Address, int, AddressHash> unauthenticated_;
};

}  // namespace anygpt::server
