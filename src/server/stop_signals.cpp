#include "server/stop_signals.hpp"

#include <pthread.h>
#include <signal.h>

namespace anygpt::server {
namespace {
sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}
}  // namespace

StopSignals::StopSignals() {
  sigset_t set = stop_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int StopSignals::wait() {
  sigset_t set = stop_set();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace anygpt::server
