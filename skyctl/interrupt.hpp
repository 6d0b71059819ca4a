#pragma once

// Ctrl-C while skyctl follows a stream. The default action (die) would drop
// the stream without telling skyd; instead the handler only counts, and the
// stream loop cancels the stream and detaches cleanly. The job on the
// cluster is never affected.

namespace sky::cli {

class interrupt_guard {
public:
  /// Installs the SIGINT handler (without SA_RESTART, so that a poll waiting
  /// for skyd returns at once) and resets the count.
  interrupt_guard();
  /// Restores the previous handler.
  ~interrupt_guard();
  interrupt_guard(const interrupt_guard&) = delete;
  interrupt_guard& operator=(const interrupt_guard&) = delete;

  /// How many times Ctrl-C was pressed since the guard was installed.
  static int count();

  /// What the handler does; tests call it to press Ctrl-C.
  static void trigger();
};

} // namespace sky::cli
