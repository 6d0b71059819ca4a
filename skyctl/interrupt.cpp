#include "skyctl/interrupt.hpp"

#include <csignal>

namespace sky::cli {

namespace {

volatile std::sig_atomic_t presses = 0;
struct sigaction previous {};

void on_sigint(int) {
  presses = presses + 1;
}

} // namespace

interrupt_guard::interrupt_guard() {
  presses = 0;
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  ::sigaction(SIGINT, &action, &previous);
}

interrupt_guard::~interrupt_guard() {
  ::sigaction(SIGINT, &previous, nullptr);
}

int interrupt_guard::count() {
  return presses;
}

void interrupt_guard::trigger() {
  on_sigint(SIGINT);
}

} // namespace sky::cli
