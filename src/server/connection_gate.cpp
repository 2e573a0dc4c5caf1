#include "server/connection_gate.hpp"

#include <utility>

namespace anygpt::server {
namespace {
// IPv4 and IPv4-mapped IPv6 peers count as the same address.
ConnectionTicket::Address key_of(const boost::asio::ip::address& peer) {
  if (peer.is_v4()) return boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, peer.to_v4()).to_bytes();
  return peer.to_v6().to_bytes();
}
}  // namespace

ConnectionTicket::ConnectionTicket(ConnectionTicket&& other) noexcept
    : gate_(std::exchange(other.gate_, nullptr)),
      address_(other.address_),
      unauthenticated_(std::exchange(other.unauthenticated_, false)) {}

ConnectionTicket& ConnectionTicket::operator=(ConnectionTicket&& other) noexcept {
  if (this != &other) {
    release();
    gate_ = std::exchange(other.gate_, nullptr);
    address_ = other.address_;
    unauthenticated_ = std::exchange(other.unauthenticated_, false);
  }
  return *this;
}

ConnectionTicket::~ConnectionTicket() {
  release();
}

void ConnectionTicket::authenticated() {
  if (!unauthenticated_) return;
  unauthenticated_ = false;
  gate_->release_address(address_);
}

void ConnectionTicket::release() {
  if (!gate_) return;
  authenticated();
  gate_->open_.fetch_sub(1, std::memory_order_relaxed);
  gate_ = nullptr;
}

std::size_t ConnectionGate::AddressHash::operator()(const ConnectionTicket::Address& a) const noexcept {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : a) h = (h ^ c) * 1099511628211ULL;
  return static_cast<std::size_t>(h);
}

ConnectionGate::Verdict ConnectionGate::admit(const boost::asio::ip::address& peer, ConnectionTicket& ticket) {
  // (Taken first and given back when refused: exact under concurrent accepts.)
  if (open_.fetch_add(1, std::memory_order_relaxed) >= max_total_ && max_total_ > 0) {
    open_.fetch_sub(1, std::memory_order_relaxed);
    return Verdict::kTooManyConnections;
  }
  auto address = key_of(peer);
  if (max_per_ip_ > 0) {
    std::lock_guard lock(mutex_);
    int& n = unauthenticated_[address];
    if (n >= max_per_ip_) {
      open_.fetch_sub(1, std::memory_order_relaxed);
      return Verdict::kTooManyFromAddress;
    }
    ++n;
  }
  ticket = ConnectionTicket{};
  ticket.gate_ = this;
  ticket.address_ = address;
  ticket.unauthenticated_ = max_per_ip_ > 0;
  return Verdict::kAdmitted;
}

void ConnectionGate::release_address(const ConnectionTicket::Address& a) {
  std::lock_guard lock(mutex_);
  auto it = unauthenticated_.find(a);
  if (it == unauthenticated_.end()) return;
  if (--it->second <= 0) unauthenticated_.erase(it);
}

}  // namespace anygpt::server
