#pragma once

namespace anygpt::server {

// Blocks SIGTERM and SIGINT in the calling thread and every thread started after it (construct
// it first in main), ignores SIGPIPE, and lets main wait for a stop request synchronously.
class StopSignals {
 public:
  StopSignals();
  // Blocks until SIGTERM or SIGINT arrives; returns the signal number.
  int wait();
};

}  // namespace anygpt::server
