// `skyctl events`: the event log, then (with --follow) live events.

#include <csignal>
#include <iostream>

#include "messages/msgpack_util.hpp"
#include "messages/protocol.hpp"
#include "skyctl/commands/commands.hpp"

namespace sky::cli {

namespace {

volatile std::sig_atomic_t interrupted = 0;

// skyd sends a heartbeat every 5 s on a quiet stream.
constexpr std::chrono::seconds idle_limit{16};

// "state=UP nodes=2": fields as key=value pairs for people.
std::string fields_text(const std::string& fields) {
  if (fields.empty())
    return {};
  auto json = body_to_json(fields);
  if (!json || !json->is_object())
    return {};
  std::string text;
  for (const auto& [k, v] : json->items()) {
    if (!text.empty())
      text += ' ';
    text += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return text;
}

nlohmann::ordered_json event_json(const event& ev) {
  nlohmann::ordered_json j;
  j["seq"] = ev.seq;
  j["time"] = ev.time_ms;
  j["kind"] = ev.kind;
  j["entity"] = ev.entity;
  auto fields = ev.fields.empty() ? nlohmann::ordered_json::object()
                                  : value_or(body_to_json(ev.fields), nullptr);
  j["fields"] = fields;
  return j;
}

} // namespace

void add_events(CLI::App& app, cli_context& ctx) {
  auto* cmd = app.add_subcommand(
    "events", "list skyd's events (state changes), optionally following");
  auto req = std::make_shared<protocol::events_request>();
  auto out = std::make_shared<output_option>();
  cmd->add_option("--since", req->since,
                  "only events after this sequence number (default 0: all)");
  cmd->add_option("--topic", req->topic,
                  "only events whose entity starts with this prefix, e.g. "
                  "cluster. or job.mycluster.");
  cmd->add_flag("-f,--follow", req->follow,
                "keep printing new events as they happen");
  out->add_to(cmd);
  cmd->footer("With -o json each event is one JSON object per line: "
              "{seq, time (Unix ms), kind, entity, fields}.");
  cmd->callback([&ctx, req, out] {
    auto conn = ctx.connect();
    if (!conn) {
      ctx.exit_code = report(conn.error());
      return;
    }
    auto stream
      = conn->open_stream("events", protocol::encode(*req), req->window);
    if (!stream) {
      ctx.exit_code = report(stream.error());
      return;
    }
    // Ctrl-C ends a follow cleanly: the stream is cancelled, not dropped.
    std::signal(SIGINT, [](int) { interrupted = 1; });
    bool cancelled = false;
    while (true) {
      auto next = conn->next(
        *stream, req->follow ? std::chrono::milliseconds{500} : ctx.timeout());
      if (!next) {
        auto code = describe(next.error()).code;
        bool quiet = code == errc::timeout || code == errc::cancelled;
        // While following, a timeout is a quiet moment, unless skyd has
        // missed three heartbeats: then it is gone.
        if (req->follow && quiet && conn->is_open(*stream)
            && conn->idle_for(*stream) < idle_limit) {
          if (interrupted && !cancelled) {
            conn->cancel(*stream);
            cancelled = true;
          }
          continue;
        }
        if (cancelled) {
          ctx.exit_code = exit_interrupted;
          return;
        }
        ctx.exit_code = report(next.error());
        return;
      }
      auto frame = protocol::decode_events_frame(next->body);
      if (!frame) {
        ctx.exit_code = report(frame.error());
        return;
      }
      for (const auto& ev : frame->events) {
        if (out->json())
          std::cout << event_json(ev).dump() << "\n";
        else
          std::cout << ev.seq << "  " << format_time_ms(ev.time_ms) << "  "
                    << ev.entity << "  " << ev.kind << "  "
                    << fields_text(ev.fields) << "\n";
      }
      std::cout.flush();
      if (next->final()) {
        ctx.exit_code = cancelled ? exit_interrupted : exit_ok;
        return;
      }
      if (interrupted && !cancelled) {
        conn->cancel(*stream);
        cancelled = true;
      }
    }
  });
}

} // namespace sky::cli
