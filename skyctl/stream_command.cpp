#include "skyctl/stream_command.hpp"

#include <iostream>

#include "skyctl/interrupt.hpp"

namespace sky::cli {

int follow_stream(cli_context& ctx, client::connection& conn,
                  std::string_view verb, const std::string& body,
                  uint32_t window, stream_view view) {
  // Installed before the request leaves, so that an early Ctrl-C detaches
  // too instead of killing skyctl with the stream half open.
  interrupt_guard guard;
  auto stream = conn.open_stream(verb, body, window);
  if (!stream)
    return report(stream.error());
  view.utf8 = ctx.term.utf8;
  progress_display progress{std::cerr, ctx.term};
  stream_printer printer{std::cout, std::cerr, progress, std::move(view)};
  stream_settings settings;
  settings.idle_limit = ctx.stream_idle_limit();
  auto end = pump_stream(conn, *stream, printer, settings);
  return printer.finish(end);
}

} // namespace sky::cli
