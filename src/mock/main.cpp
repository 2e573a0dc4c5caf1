// anygpt-mock: wiring only. Reads MOCK_* settings, serves MockService's routes, prints
// "anygpt-mock listening on http://HOST:PORT" once started, and exits 0 on SIGTERM/SIGINT.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/log.hpp"
#include "mock/mock_config.hpp"
#include "mock/mock_service.hpp"
#include "server/stop_signals.hpp"

namespace {

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "anygpt-mock: %s\n", message.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace anygpt;
  server::StopSignals stop_signals;  // first: before any thread (the logger included) starts
  if (argc > 1) {
    std::string a = argv[1];
    if (a != "--help" && a != "-h")
      die("unknown argument '" + a + "' (configure with MOCK_* variables, see docs/MOCK.md)");
    std::puts(
        "anygpt-mock: fake upstream speaking the OpenAI, Anthropic, Gemini and Ollama APIs. Configure with MOCK_* "
        "variables (see docs/MOCK.md).");
    return 0;
  }
  auto env = mock::load_env([](std::string_view name) -> std::optional<std::string> {
    if (const char* v = std::getenv(std::string(name).c_str())) return std::string(v);
    return std::nullopt;
  });
  if (!env) die("configuration error: " + env.error().message);

  mock::MockService service(env->config);
  server::ServerOptions options;
  options.host = env->host;
  options.port = env->port;
  options.threads = env->threads;
  options.cors.methods = "GET, POST, DELETE, OPTIONS";
  options.access_log = false;  // the mock writes its own line per request (MOCK_ENABLE_LOGS)
  options.cors.headers = "*";
  server::HttpServer server(options, &mock::MockService::render_error);
  for (auto& route : service.routes()) server.add_route(std::move(route));
  std::uint16_t port = 0;
  try {
    port = server.start();
  } catch (const std::exception& e) {
    die("cannot listen on " + env->host + ":" + std::to_string(env->port) + ": " + e.what());
  }
  std::printf("anygpt-mock listening on http://%s:%u\n", env->host.c_str(), static_cast<unsigned>(port));
  std::fflush(stdout);

  stop_signals.wait();
  // A fake upstream owes nobody a graceful drain: held and streaming requests are cut.
  server.drain();
  server.stop();
  core::flush_log();
  return 0;
}
