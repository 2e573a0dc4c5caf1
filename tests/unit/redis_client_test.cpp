// store/redis client against a real redis-server child process on a free loopback port.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "store/redis/redis.hpp"

namespace {
namespace asio = boost::asio;
namespace fs = std::filesystem;
using anygpt::core::ErrorKind;
using namespace anygpt::store::redis;
using namespace std::chrono_literals;
using namespace std::string_literals;
using Clock = std::chrono::steady_clock;
using Commands = std::vector<std::vector<std::string>>;

constexpr const char* kRedisServer = "/usr/bin/redis-server";

// Fatal checks inside a coroutine test body (ASSERT_* would `return`, not `co_return`).
#define CO_ASSERT(cond)                        \
  do {                                         \
    if (!(cond)) {                             \
      ADD_FAILURE() << "CO_ASSERT(" #cond ")"; \
      co_return;                               \
    }                                          \
  } while (0)
#define CO_ASSERT_OK(result)                                            \
  do {                                                                  \
    if (!(result).ok()) {                                               \
      ADD_FAILURE() << #result " failed: " << (result).error().message; \
      co_return;                                                        \
    }                                                                   \
  } while (0)

long elapsed_ms(Clock::time_point since) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count());
}

// A loopback port nobody listens on right now (bind port 0, read it back, close).
unsigned short free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    std::abort();
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool accepts(unsigned short port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// A redis-server child process listening on 127.0.0.1. Owned by one test or suite; stopped by
// stop() or its destructor, and killed by the kernel should the test process die first.
class RedisProcess {
 public:
  RedisProcess() = default;
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;
  ~RedisProcess() { stop(); }

  // Starts redis-server on `port` (the plain port unless `extra` moves it) with `extra`
  // arguments; true once the port accepts connections.
  bool start(unsigned short port, const std::vector<std::string>& extra = {}) {
    port_ = port;
    std::vector<std::string> args{
        kRedisServer, "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--dir",      "/tmp",   "--loglevel",         "warning"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    pid_ = ::fork();
    if (pid_ == 0) {  // child: async-signal-safe calls only
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(devnull, STDOUT_FILENO);
      ::dup2(devnull, STDERR_FILENO);
      ::close_range(3, ~0U, 0);
      ::execv(kRedisServer, argv.data());
      ::_exit(127);
    }
    ::close(devnull);
    if (pid_ < 0) return false;
    for (auto deadline = Clock::now() + 10s; Clock::now() < deadline;) {
      if (accepts(port)) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  void stop(int sig = SIGTERM) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  unsigned short port() const { return port_; }

 private:
  pid_t pid_ = -1;
  unsigned short port_ = 0;
};

// Runs `body` as a coroutine on a fresh io_context; fails if it has not finished within 30 s.
void run(const std::function<asio::awaitable<void>(asio::io_context&)>& body) {
  asio::io_context ioc;
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(ioc, body(ioc), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  ioc.run_for(30s);
  ASSERT_TRUE(done) << "the test body did not finish";
  if (error) std::rethrow_exception(error);
}

// A command's arguments. GCC 12 rejects a braced list inside a co_await expression ("array used
// as initializer"), so coroutine bodies build argument vectors with this or with locals.
template <class... Args>
std::vector<std::string> cmd(Args&&... args) {
  std::vector<std::string> v;
  v.reserve(sizeof...(args));
  (v.emplace_back(std::forward<Args>(args)), ...);
  return v;
}

Options local(unsigned short port) {
  Options o;
  o.port = std::to_string(port);
  return o;
}

Reply bulk(std::string s) {
  return Reply{Reply::Type::kString, 0, std::move(s), {}};
}
Reply integer(std::int64_t i) {
  return Reply{Reply::Type::kInteger, i, {}, {}};
}

bool same(const Reply& a, const Reply& b) {
  if (a.type != b.type || a.integer != b.integer || a.str != b.str || a.elements.size() != b.elements.size())
    return false;
  for (std::size_t i = 0; i < a.elements.size(); ++i)
    if (!same(a.elements[i], b.elements[i])) return false;
  return true;
}

// ---- one shared server for the request/response and pub/sub tests --------------------------

class RedisClient : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new RedisProcess;
    started_ = server_->start(free_port());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kRedisServer)) << kRedisServer << " is missing: install redis-server";
    ASSERT_TRUE(started_) << "redis-server did not start";
  }
  static Options options() { return local(server_->port()); }

  static inline RedisProcess* server_ = nullptr;
  static inline bool started_ = false;
};

TEST_F(RedisClient, SetGetIncrRoundTripWithNilAndErrorReplies) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    Connection c(ioc, options(), nullptr);
    auto up = co_await c.connect();
    CO_ASSERT_OK(up);
    EXPECT_TRUE(c.connected());
    auto set = co_await c.command(cmd("SET", "rt:greeting", "hello"));
    CO_ASSERT_OK(set);
    EXPECT_EQ(set->type, Reply::Type::kStatus);
    EXPECT_EQ(set->str, "OK");
    auto get = co_await c.command(cmd("GET", "rt:greeting"));
    CO_ASSERT_OK(get);
    EXPECT_TRUE(same(*get, bulk("hello")));
    auto missing = co_await c.command(cmd("GET", "rt:missing"));
    CO_ASSERT_OK(missing);
    EXPECT_EQ(missing->type, Reply::Type::kNil);
    co_await c.command(cmd("DEL", "rt:counter"));
    auto one = co_await c.command(cmd("INCR", "rt:counter"));
    auto two = co_await c.command(cmd("INCR", "rt:counter"));
    CO_ASSERT_OK(one);
    CO_ASSERT_OK(two);
    EXPECT_TRUE(same(*one, integer(1)));
    EXPECT_TRUE(same(*two, integer(2)));
    // A Redis error is a reply, not a failure: the connection stays usable.
    auto wrong = co_await c.command(cmd("INCR", "rt:greeting"));
    CO_ASSERT_OK(wrong);
    EXPECT_EQ(wrong->type, Reply::Type::kError);
    EXPECT_NE(wrong->str.find("not an integer"), std::string::npos) << wrong->str;
    EXPECT_TRUE(c.connected());
    auto ping = co_await c.command(cmd("PING"));
    CO_ASSERT_OK(ping);
    EXPECT_EQ(ping->str, "PONG");
  });
}

TEST_F(RedisClient, HashCountersAndHgetallArrays) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    Connection c(ioc, options(), nullptr);
    auto up = co_await c.connect();
    CO_ASSERT_OK(up);
    const Commands r_commands{{"DEL", "h:usage"},
                              {"HINCRBY", "h:usage", "tokens", "5"},
                              {"HINCRBY", "h:usage", "tokens", "-2"},
                              {"HINCRBY", "h:usage", "requests", "1"},
                              {"HSET", "h:usage", "tier", "pro"},
                              {"HGETALL", "h:usage"},
                              {"HGETALL", "h:absent"}};
    auto r = co_await c.pipeline(r_commands);
    CO_ASSERT_OK(r);
    CO_ASSERT(r->size() == 7u);
    EXPECT_TRUE(same((*r)[1], integer(5)));
    EXPECT_TRUE(same((*r)[2], integer(3)));
    EXPECT_TRUE(same((*r)[3], integer(1)));
    const auto& all = (*r)[5];
    CO_ASSERT(all.type == Reply::Type::kArray && all.elements.size() == 6u);
    std::map<std::string, std::string> fields;
    for (std::size_t i = 0; i + 1 < all.elements.size(); i += 2) fields[all.elements[i].str] = all.elements[i + 1].str;
    EXPECT_EQ(fields, (std::map<std::string, std::string>{{"tokens", "3"}, {"requests", "1"}, {"tier", "pro"}}));
    EXPECT_EQ((*r)[6].type, Reply::Type::kArray);
    EXPECT_TRUE((*r)[6].elements.empty());
  });
}

TEST_F(RedisClient, PipelineOfAThousandCommandsKeepsOrder) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    Connection c(ioc, options(), nullptr);
    auto up = co_await c.connect();
    CO_ASSERT_OK(up);
    const auto value = [](int i) { return "value-" + std::to_string(i) + std::string(100, 'x'); };
    Commands sets, gets;
    for (int i = 0; i < 1000; ++i) {
      sets.push_back({"SET", "pl:" + std::to_string(i), value(i)});
      gets.push_back({"GET", "pl:" + std::to_string(i)});
    }
    auto t0 = Clock::now();
    auto stored = co_await c.pipeline(sets);
    auto read = co_await c.pipeline(gets);  // ~110 KB of replies: many reads, replies split across them
    std::printf("[          ] 2 pipelines of 1000 commands: %ld ms\n", elapsed_ms(t0));
    CO_ASSERT_OK(stored);
    CO_ASSERT_OK(read);
    CO_ASSERT(stored->size() == 1000u && read->size() == 1000u);
    int mismatches = 0;
    for (int i = 0; i < 1000; ++i) {
      if ((*stored)[i].str != "OK" || !same((*read)[i], bulk(value(i)))) ++mismatches;
    }
    EXPECT_EQ(mismatches, 0);
  });
}

TEST_F(RedisClient, BinarySafeKeysAndValues) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    Connection c(ioc, options(), nullptr);
    auto up = co_await c.connect();
    CO_ASSERT_OK(up);
    const std::string key = "bin:\r\n\0key"s;
    const std::string value = "line\r\n$5\r\n*2\r\n\0nul\xff\x80 end"s;
    std::string big(1 << 20, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
    const Commands r_commands{{"SET", key, value}, {"GET", key}, {"SET", "bin:big", big}, {"GET", "bin:big"}};
    auto r = co_await c.pipeline(r_commands);
    CO_ASSERT_OK(r);
    EXPECT_TRUE(same((*r)[1], bulk(value)));
    EXPECT_EQ((*r)[3].str.size(), big.size());
    EXPECT_TRUE((*r)[3].str == big);
    const Commands empty_commands{{"SET", "bin:empty", ""}, {"GET", "bin:empty"}};
    auto empty = co_await c.pipeline(empty_commands);
    CO_ASSERT_OK(empty);
    EXPECT_TRUE(same((*empty)[1], bulk("")));
  });
}

TEST_F(RedisClient, EvalReturnsNestedLuaArray) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    Connection c(ioc, options(), nullptr);
    auto up = co_await c.connect();
    CO_ASSERT_OK(up);
    co_await c.command(cmd("SET", "lua:key", "stored"));
    auto r = co_await c.command(
        cmd("EVAL", "return {1, 'two', {3, ARGV[1]}, redis.call('GET', KEYS[1]), redis.status_reply('fine'), false}",
            "1", "lua:key", "four"));
    CO_ASSERT_OK(r);
    Reply nested{Reply::Type::kArray, 0, {}, {integer(3), bulk("four")}};
    Reply expected{
        Reply::Type::kArray,
        0,
        {},
        {integer(1), bulk("two"), nested, bulk("stored"), Reply{Reply::Type::kStatus, 0, "fine", {}}, Reply{}}};
    EXPECT_TRUE(same(*r, expected));
  });
}

TEST_F(RedisClient, SelectedDatabaseIsIsolated) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    auto three = options();
    three.db = 3;
    Connection c0(ioc, options(), nullptr), c3(ioc, three, nullptr);
    auto up0 = co_await c0.connect();
    auto up3 = co_await c3.connect();
    CO_ASSERT_OK(up0);
    CO_ASSERT_OK(up3);
    co_await c0.command(cmd("SET", "iso:key", "zero"));
    co_await c3.command(cmd("DEL", "iso:key"));
    auto in3 = co_await c3.command(cmd("GET", "iso:key"));
    CO_ASSERT_OK(in3);
    EXPECT_EQ(in3->type, Reply::Type::kNil);
    co_await c3.command(cmd("SET", "iso:key", "three"));
    auto in0 = co_await c0.command(cmd("GET", "iso:key"));
    auto again3 = co_await c3.command(cmd("GET", "iso:key"));
    CO_ASSERT_OK(in0);
    CO_ASSERT_OK(again3);
    EXPECT_EQ(in0->str, "zero");
    EXPECT_EQ(again3->str, "three");
    auto info = co_await c3.command(cmd("CLIENT", "INFO"));
    CO_ASSERT_OK(info);
    EXPECT_NE(info->str.find(" db=3 "), std::string::npos) << info->str;
  });
}

TEST_F(RedisClient, SubscriberReceivesPublishedMessages) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    Connection sub(ioc, options(), nullptr), pub(ioc, options(), nullptr);
    auto up1 = co_await sub.connect();
    auto up2 = co_await pub.connect();
    CO_ASSERT_OK(up1);
    CO_ASSERT_OK(up2);
    auto subscribed = co_await sub.subscribe(cmd("ps:news", "ps:other"));
    CO_ASSERT_OK(subscribed);
    const std::string payload = "hello\r\n\0world"s;
    auto receivers = co_await pub.command(cmd("PUBLISH", "ps:news", payload));
    CO_ASSERT_OK(receivers);
    EXPECT_TRUE(same(*receivers, integer(1)));
    co_await pub.command(cmd("PUBLISH", "ps:other", "second"));
    auto first = co_await sub.next_message(2s);
    auto second = co_await sub.next_message(2s);
    CO_ASSERT_OK(first);
    CO_ASSERT_OK(second);
    CO_ASSERT(first->has_value() && second->has_value());
    EXPECT_EQ((*first)->channel, "ps:news");
    EXPECT_EQ((*first)->payload, payload);
    EXPECT_EQ((*second)->channel, "ps:other");
    EXPECT_EQ((*second)->payload, "second");
  });
}

TEST_F(RedisClient, NextMessageTimesOutAndTheSubscriptionStaysUsable) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    Connection sub(ioc, options(), nullptr), pub(ioc, options(), nullptr);
    auto up1 = co_await sub.connect();
    auto up2 = co_await pub.connect();
    CO_ASSERT_OK(up1);
    CO_ASSERT_OK(up2);
    auto subscribed = co_await sub.subscribe(cmd("quiet"));
    CO_ASSERT_OK(subscribed);
    auto t0 = Clock::now();
    auto none = co_await sub.next_message(200ms);
    const long waited = elapsed_ms(t0);
    CO_ASSERT_OK(none);
    EXPECT_FALSE(none->has_value());
    EXPECT_GE(waited, 195);
    EXPECT_LT(waited, 1000);
    EXPECT_TRUE(sub.connected());
    // A subscribed connection refuses ordinary commands rather than mixing replies with pushes.
    auto refused = co_await sub.command(cmd("GET", "x"));
    CO_ASSERT(!refused.ok());
    EXPECT_EQ(refused.error().kind, ErrorKind::kInvalidRequest);
    co_await pub.command(cmd("PUBLISH", "quiet", "after the timeout"));
    auto later = co_await sub.next_message(2s);
    CO_ASSERT_OK(later);
    CO_ASSERT(later->has_value());
    EXPECT_EQ((*later)->payload, "after the timeout");
  });
}

TEST_F(RedisClient, CallsBeforeConnectFailAsUnavailable) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    Connection c(ioc, options(), nullptr);
    EXPECT_FALSE(c.connected());
    auto r = co_await c.command(cmd("PING"));
    CO_ASSERT(!r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kUpstreamUnavailable);
  });
}

TEST_F(RedisClient, ConnectToAClosedPortFailsAsUnavailable) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    Connection c(ioc, local(free_port()), nullptr);
    auto t0 = Clock::now();
    auto up = co_await c.connect();
    CO_ASSERT(!up.ok());
    EXPECT_EQ(up.error().kind, ErrorKind::kUpstreamUnavailable);
    EXPECT_NE(up.error().message.find("redis: cannot connect to 127.0.0.1:"), std::string::npos) << up.error().message;
    EXPECT_LT(elapsed_ms(t0), 1000);
    EXPECT_FALSE(c.connected());
  });
}

// ---- a peer that accepts TCP connections and never says a word ------------------------------

TEST(RedisSilentServer, CommandTimesOutWithinCommandTimeout) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    asio::ip::tcp::acceptor silent(ioc, {asio::ip::address_v4::loopback(), 0});  // listens, never accepts
    auto o = local(silent.local_endpoint().port());
    o.command_timeout = 300ms;
    Connection c(ioc, o, nullptr);
    auto up = co_await c.connect();  // the kernel completes the handshake from the backlog
    CO_ASSERT_OK(up);
    auto t0 = Clock::now();
    auto r = co_await c.command(cmd("PING"));
    const long waited = elapsed_ms(t0);
    CO_ASSERT(!r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kUpstreamTimeout);
    EXPECT_EQ(r.error().message, "redis: no reply within 300 ms");
    EXPECT_GE(waited, 295);
    EXPECT_LT(waited, 1000);
    EXPECT_FALSE(c.connected());
  });
}

TEST(RedisSilentServer, TlsHandshakeTimesOutWithinConnectTimeout) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    asio::ip::tcp::acceptor silent(ioc, {asio::ip::address_v4::loopback(), 0});
    auto o = local(silent.local_endpoint().port());
    o.tls = true;
    o.connect_timeout = 300ms;
    Connection c(ioc, o, nullptr);
    auto t0 = Clock::now();
    auto up = co_await c.connect();
    const long waited = elapsed_ms(t0);
    CO_ASSERT(!up.ok());
    EXPECT_EQ(up.error().kind, ErrorKind::kUpstreamTimeout);
    EXPECT_NE(up.error().message.find("within 300 ms"), std::string::npos) << up.error().message;
    EXPECT_GE(waited, 295);
    EXPECT_LT(waited, 1000);
    EXPECT_FALSE(c.connected());
  });
}

// ---- a scripted peer: exact bytes, split where the test wants --------------------------------

TEST(RedisScriptedPeer, PartialMessageSurvivesANextMessageTimeout) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::address_v4::loopback(), 0});
    Connection c(ioc, local(acceptor.local_endpoint().port()), nullptr);
    auto up = co_await c.connect();
    CO_ASSERT_OK(up);
    auto peer = co_await acceptor.async_accept(asio::use_awaitable);
    // The confirmation is queued before SUBSCRIBE is even sent; the peer never reads.
    co_await asio::async_write(peer, asio::buffer("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"s), asio::use_awaitable);
    auto subscribed = co_await c.subscribe(cmd("ch"));
    CO_ASSERT_OK(subscribed);
    co_await asio::async_write(peer, asio::buffer("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhel"s),
                               asio::use_awaitable);
    auto none = co_await c.next_message(100ms);
    CO_ASSERT_OK(none);
    EXPECT_FALSE(none->has_value());
    EXPECT_TRUE(c.connected());
    co_await asio::async_write(peer, asio::buffer("lo\r\n"s), asio::use_awaitable);
    auto whole = co_await c.next_message(1s);
    CO_ASSERT_OK(whole);
    CO_ASSERT(whole->has_value());
    EXPECT_EQ((*whole)->channel, "ch");
    EXPECT_EQ((*whole)->payload, "hello");
  });
}

TEST(RedisScriptedPeer, MalformedReplyIsAProtocolErrorAndCloses) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::address_v4::loopback(), 0});
    Connection c(ioc, local(acceptor.local_endpoint().port()), nullptr);
    auto up = co_await c.connect();
    CO_ASSERT_OK(up);
    auto peer = co_await acceptor.async_accept(asio::use_awaitable);
    co_await asio::async_write(peer, asio::buffer("?not resp\r\n"s), asio::use_awaitable);
    auto r = co_await c.command(cmd("PING"));
    CO_ASSERT(!r.ok());
    EXPECT_EQ(r.error().kind, ErrorKind::kUpstreamError);
    EXPECT_EQ(r.error().message.rfind("redis: protocol error: ", 0), 0u) << r.error().message;
    EXPECT_FALSE(c.connected());
  });
}

// ---- AUTH: requirepass and an ACL user -------------------------------------------------------

constexpr const char* kAdminPassword = "admin-Secret-42";

class RedisAuth : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new RedisProcess;
    started_ = server_->start(free_port(), {"--requirepass", kAdminPassword});
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(started_) << "redis-server did not start"; }
  static Options options(std::string user, std::string password) {
    auto o = local(server_->port());
    o.username = std::move(user);
    o.password = std::move(password);
    return o;
  }

  static inline RedisProcess* server_ = nullptr;
  static inline bool started_ = false;
};

TEST_F(RedisAuth, RightPasswordAuthenticates) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    Connection c(ioc, options("", kAdminPassword), nullptr);
    auto up = co_await c.connect();
    CO_ASSERT_OK(up);
    auto ping = co_await c.command(cmd("PING"));
    CO_ASSERT_OK(ping);
    EXPECT_EQ(ping->str, "PONG");
  });
}

TEST_F(RedisAuth, WrongPasswordFailsWithoutEchoingIt) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    const std::string wrong = "wrong-Secret-99";
    Connection c(ioc, options("", wrong), nullptr);
    auto up = co_await c.connect();
    CO_ASSERT(!up.ok());
    EXPECT_EQ(up.error().kind, ErrorKind::kUpstreamError);
    EXPECT_NE(up.error().message.find("redis: AUTH rejected"), std::string::npos) << up.error().message;
    EXPECT_EQ(up.error().message.find(wrong), std::string::npos) << up.error().message;
    EXPECT_FALSE(c.connected());
  });
}

TEST_F(RedisAuth, NoPasswordLeavesCommandsRejectedWithNoauth) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    Connection c(ioc, options("", ""), nullptr);
    auto up = co_await c.connect();
    CO_ASSERT_OK(up);
    auto r = co_await c.command(cmd("GET", "k"));
    CO_ASSERT_OK(r);
    EXPECT_EQ(r->type, Reply::Type::kError);
    EXPECT_EQ(r->str.rfind("NOAUTH", 0), 0u) << r->str;
  });
}

TEST_F(RedisAuth, AclUserWithPasswordIsLimitedToItsKeys) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    Connection admin(ioc, options("", kAdminPassword), nullptr);
    auto up = co_await admin.connect();
    CO_ASSERT_OK(up);
    auto created =
        co_await admin.command(cmd("ACL", "SETUSER", "alice", "reset", "on", ">alice-Pass-7", "~alice:*", "+@all"));
    CO_ASSERT_OK(created);
    EXPECT_EQ(created->str, "OK");

    Connection alice(ioc, options("alice", "alice-Pass-7"), nullptr);
    auto in = co_await alice.connect();
    CO_ASSERT_OK(in);
    const Commands r_commands{{"SET", "alice:x", "1"}, {"SET", "bob:x", "1"}, {"ACL", "WHOAMI"}};
    auto r = co_await alice.pipeline(r_commands);
    CO_ASSERT_OK(r);
    EXPECT_EQ((*r)[0].str, "OK");
    EXPECT_EQ((*r)[1].type, Reply::Type::kError);
    EXPECT_EQ((*r)[1].str.rfind("NOPERM", 0), 0u) << (*r)[1].str;
    EXPECT_EQ((*r)[2].str, "alice");

    Connection impostor(ioc, options("alice", "not-Alice-Pass"), nullptr);
    auto out = co_await impostor.connect();
    CO_ASSERT(!out.ok());
    EXPECT_EQ(out.error().kind, ErrorKind::kUpstreamError);
    EXPECT_EQ(out.error().message.find("not-Alice-Pass"), std::string::npos) << out.error().message;
  });
}

// ---- the server dies and comes back ----------------------------------------------------------

TEST(RedisRestart, KilledServerFailsFastAndConnectWorksAfterRestart) {
  ASSERT_TRUE(fs::exists(kRedisServer)) << kRedisServer << " is missing: install redis-server";
  RedisProcess server;
  ASSERT_TRUE(server.start(free_port()));
  run([&server](asio::io_context& ioc) -> asio::awaitable<void> {
    auto o = local(server.port());
    o.command_timeout = 5s;
    Connection c(ioc, o, nullptr);
    auto up = co_await c.connect();
    CO_ASSERT_OK(up);
    auto set = co_await c.command(cmd("SET", "k", "v"));
    CO_ASSERT_OK(set);

    server.stop(SIGKILL);
    auto t0 = Clock::now();
    const Commands lost_commands{{"PING"}, {"PING"}};
    auto lost = co_await c.pipeline(lost_commands);
    CO_ASSERT(!lost.ok());
    EXPECT_EQ(lost.error().kind, ErrorKind::kUpstreamUnavailable);
    EXPECT_EQ(lost.error().message.rfind("redis: connection lost: ", 0), 0u) << lost.error().message;
    EXPECT_LT(elapsed_ms(t0), 1000);
    EXPECT_FALSE(c.connected());
    auto refused = co_await c.connect();
    CO_ASSERT(!refused.ok());
    EXPECT_EQ(refused.error().kind, ErrorKind::kUpstreamUnavailable);

    CO_ASSERT(server.start(server.port()));
    auto back = co_await c.connect();
    CO_ASSERT_OK(back);
    auto ping = co_await c.command(cmd("PING"));
    CO_ASSERT_OK(ping);
    EXPECT_EQ(ping->str, "PONG");
  });
}

// ---- TLS with a throwaway CA -----------------------------------------------------------------

class RedisTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/anygpt-redis-tls-XXXXXX";
    if (!::mkdtemp(tmpl)) return;
    dir_ = tmpl;
    std::ofstream(dir_ / "san.ext") << "subjectAltName=DNS:localhost\n";
    // The server certificate names "localhost" only, so 127.0.0.1 fails host name verification.
    const std::string d = dir_.string();
    const std::string script =
        "cd '" + d +
        "' && (openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt"
        " -days 1 -subj /CN=anygpt-test-ca"
        " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr"
        " -subj /CN=localhost"
        " && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1"
        " -extfile san.ext) >/dev/null 2>&1";
    if (std::system(script.c_str()) != 0) return;
    const auto port = free_port();
    server_ = new RedisProcess;
    started_ = server_->start(
        port, {"--port", "0", "--tls-port", std::to_string(port), "--tls-cert-file", d + "/server.crt",
               "--tls-key-file", d + "/server.key", "--tls-ca-cert-file", d + "/ca.crt", "--tls-auth-clients", "no"});
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    std::error_code ignored;
    if (!dir_.empty()) fs::remove_all(dir_, ignored);
  }
  void SetUp() override {
    ASSERT_TRUE(started_) << "TLS redis-server did not start (openssl CLI and TLS build needed)";
  }

  static Options options(const std::string& host) {
    auto o = local(server_->port());
    o.host = host;
    o.tls = true;
    return o;
  }
  static std::shared_ptr<asio::ssl::context> trusting_test_ca() {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx->load_verify_file((dir_ / "ca.crt").string());
    return ctx;
  }

  static inline fs::path dir_;
  static inline RedisProcess* server_ = nullptr;
  static inline bool started_ = false;
};

TEST_F(RedisTls, VerifiedCertificateCarriesCommands) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    Connection c(ioc, options("localhost"), trusting_test_ca());
    auto up = co_await c.connect();
    CO_ASSERT_OK(up);
    const Commands r_commands{{"SET", "tls:k", "over tls"}, {"GET", "tls:k"}};
    auto r = co_await c.pipeline(r_commands);
    CO_ASSERT_OK(r);
    EXPECT_TRUE(same((*r)[1], bulk("over tls")));
  });
}

TEST_F(RedisTls, UntrustedCertificateIsRejected) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    Connection c(ioc, options("localhost"), nullptr);  // default context: system CAs only
    auto up = co_await c.connect();
    CO_ASSERT(!up.ok());
    EXPECT_EQ(up.error().kind, ErrorKind::kUpstreamUnavailable);
    EXPECT_NE(up.error().message.find("TLS handshake"), std::string::npos) << up.error().message;
    EXPECT_FALSE(c.connected());
  });
}

TEST_F(RedisTls, HostNameMismatchIsRejected) {
  run([](asio::io_context& ioc) -> asio::awaitable<void> {
    Connection c(ioc, options("127.0.0.1"), trusting_test_ca());
    auto up = co_await c.connect();
    CO_ASSERT(!up.ok());
    EXPECT_NE(up.error().message.find("TLS handshake"), std::string::npos) << up.error().message;
  });
}

// ---- pure parts ------------------------------------------------------------------------------

TEST(RedisEncoding, CommandIsAnArrayOfBulkStrings) {
  std::string out;
  append_command(out, {"SET", "k", "a\r\n\0b"s});
  append_command(out, {"PING"});
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\r\n\0b\r\n*1\r\n$4\r\nPING\r\n"s);
}

TEST(RedisUrl, HostAndPortForms) {
  auto a = parse_url("cache.internal:6380");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "cache.internal");
  EXPECT_EQ(a->port, "6380");
  EXPECT_FALSE(a->tls);
  auto b = parse_url("cache.internal");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->port, "6379");
  auto v6 = parse_url("[::1]:7000");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "7000");
}

TEST(RedisUrl, RedisUrlsCarryCredentialsDatabaseAndTls) {
  auto a = parse_url("redis://default:p%40ss%3Aword@redis.example.com:6390/3");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->username, "default");
  EXPECT_EQ(a->password, "p@ss:word");
  EXPECT_EQ(a->host, "redis.example.com");
  EXPECT_EQ(a->port, "6390");
  EXPECT_EQ(a->db, 3);
  EXPECT_FALSE(a->tls);
  auto b = parse_url("rediss://:only-pass@[2001:db8::2]");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_TRUE(b->tls);
  EXPECT_EQ(b->username, "");
  EXPECT_EQ(b->password, "only-pass");
  EXPECT_EQ(b->host, "2001:db8::2");
  EXPECT_EQ(b->port, "6379");
  EXPECT_EQ(b->db, 0);
  auto c = parse_url("redis://localhost/");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->db, 0);
  auto d = parse_url("redis://u:p@ss@h");  // an unencoded '@' in the password
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->password, "p@ss");
  EXPECT_EQ(d->host, "h");
}

TEST(RedisUrl, BadInputIsNamedWithoutEchoingThePassword) {
  const std::string secret = "Hunter2-Secret";
  struct Case {
    std::string url, expect;
  };
  const std::vector<Case> cases{
      {"http://h", "scheme"},
      {"redis://", "no host"},
      {"redis://h:0", "port"},
      {"redis://h:65536", "port"},
      {"redis://h:63x", "port"},
      {"h:", "empty port"},
      {"::1", "brackets"},
      {"[::1", "unterminated"},
      {"redis://h/x", "database"},
      {"redis://h/-1", "database"},
      {"redis://h?db=1", "query"},
      {"redis://user@h", "needs a password"},
      {"redis://u:" + secret + "%zz@h", "percent-encoding in the password"},
      {"redis://u%:" + secret + "@h", "percent-encoding in the user name"},
      {"u:" + secret + "@h:6379", "credentials need"},
      {"redis://u:" + secret + "@h:99999/1", "port"},
  };
  for (const auto& c : cases) {
    auto r = parse_url(c.url);
    ASSERT_FALSE(r.ok()) << c.url;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest);
    EXPECT_NE(r.error().message.find(c.expect), std::string::npos) << c.url << " -> " << r.error().message;
    EXPECT_EQ(r.error().message.find(secret), std::string::npos) << r.error().message;
  }
}

}  // namespace
