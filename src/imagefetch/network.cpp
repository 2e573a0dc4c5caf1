#include "imagefetch/network.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "imagefetch/address_policy.hpp"

namespace anygpt::imagefetch {
namespace {

core::Error failure(std::string reason) {
  return core::make_error(core::ErrorKind::kInvalidRequest, std::move(reason), {}, std::string(kFailedCode));
}

// A lookup shared by the pool thread that runs it and the coroutine that waits for it.
struct Lookup {
  explicit Lookup(asio::any_io_executor ex) : waiter(std::make_shared<Waiter>(std::move(ex))) {}
  std::shared_ptr<Waiter> waiter;
  int status = 0;  // getaddrinfo's
  std::vector<asio::ip::address> addresses;

  void run(const std::string& host) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* list = nullptr;
    status = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
    for (auto* ai = list; status == 0 && ai; ai = ai->ai_next) {
      if (ai->ai_family == AF_INET) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
        addresses.push_back(asio::ip::address_v4(ntohl(sin->sin_addr.s_addr)));
      } else if (ai->ai_family == AF_INET6) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
        asio::ip::address_v6::bytes_type b;
        std::copy(sin6->sin6_addr.s6_addr, sin6->sin6_addr.s6_addr + 16, b.begin());
        addresses.push_back(asio::ip::address_v6(b));
      }
    }
    if (list) ::freeaddrinfo(list);
  }
};

}  // namespace

asio::awaitable<bool> Waiter::wait(Clock::time_point deadline) {
  if (!woken_) {
    timer_.expires_at(deadline);
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return woken_;
}

void Waiter::wake() {
  asio::post(timer_.get_executor(), [self = shared_from_this()] {
    self->woken_ = true;
    self->timer_.cancel();
  });
}

asio::awaitable<core::Result<std::vector<asio::ip::address>>> SystemNetwork::resolve(const std::string& host,
                                                                                     Clock::time_point deadline) {
  auto executor = co_await asio::this_coro::executor;
  auto lookup = std::make_shared<Lookup>(executor);
  asio::post(pool_, [lookup, host] {
    lookup->run(host);
    lookup->waiter->wake();
  });
  const bool done = co_await lookup->waiter->wait(deadline);
  if (!done) co_return failure("the host name did not resolve in time");
  if (lookup->status == EAI_NONAME || lookup->status == EAI_NODATA) co_return failure("the host name does not resolve");
  if (lookup->status != 0)
    co_return failure(std::string("the host name could not be resolved (") + ::gai_strerror(lookup->status) + ")");
  if (lookup->addresses.empty()) co_return failure("the host name has no address");
  co_return std::move(lookup->addresses);
}

asio::awaitable<bool> FetchSlots::acquire(Clock::time_point deadline) {
  bool free_now = false;
  {
    std::lock_guard lock(mu_);
    if (used_ < max_ && queue_.empty()) {
      ++used_;
      free_now = true;
    }
  }
  if (free_now) co_return true;
  auto executor = co_await asio::this_coro::executor;
  auto me = std::make_shared<Queued>(std::make_shared<Waiter>(executor));
  {
    std::lock_guard lock(mu_);
    queue_.push_back(me);
  }
  co_await me->waiter->wait(deadline);
  bool granted = false;
  {
    std::lock_guard lock(mu_);
    granted = me->granted;  // (granted just as the deadline passed: the slot is ours all the same)
    if (!granted) std::erase(queue_, me);
  }
  co_return granted;
}

void FetchSlots::release() {
  std::lock_guard lock(mu_);
  if (queue_.empty()) {
    --used_;
    return;
  }
  auto next = std::move(queue_.front());  // the slot passes straight to the longest waiter
  queue_.pop_front();
  next->granted = true;
  next->waiter->wake();
}

}  // namespace anygpt::imagefetch
