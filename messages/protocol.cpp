#include "messages/protocol.hpp"

#include "messages/body_reader.hpp"

namespace sky::protocol {

std::string encode(const events_request& req) {
  return map_writer{4}
    .add("since", req.since)
    .add("topic", req.topic)
    .add("follow", req.follow)
    .add("window", req.window)
    .bytes();
}

result<events_request> decode_events_request(std::string_view body) {
  auto r = body_reader::parse(body, "events request");
  if (!r)
    return r.error();
  events_request req;
  if (auto err = read_into(req.since, r->u64("since", 0)))
    return err;
  if (auto err = read_into(req.topic, r->str("topic", "")))
    return err;
  if (auto err = read_into(req.follow, r->boolean("follow", false)))
    return err;
  uint64_t window = 0;
  if (auto err = read_into(window, r->u64("window", 64)))
    return err;
  if (window == 0 || window > 65536)
    return make_error(errc::bad_request,
                      "events request: window must be 1..65536");
  req.window = static_cast<uint32_t>(window);
  return req;
}

std::string encode(const events_frame& frame) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk{buf};
  pk.pack_map(2);
  pk.pack(std::string_view{"events"});
  pk.pack_array(static_cast<uint32_t>(frame.events.size()));
  for (const auto& ev : frame.events) {
    auto bytes = encode_event(ev);
    buf.write(bytes.data(), bytes.size());
  }
  pk.pack(std::string_view{"cursor"});
  pk.pack(frame.cursor);
  return std::string{buf.data(), buf.size()};
}

result<events_frame> decode_events_frame(std::string_view body) {
  auto r = body_reader::parse(body, "events frame");
  if (!r)
    return r.error();
  events_frame frame;
  if (auto err = read_into(frame.cursor, r->u64("cursor", 0)))
    return err;
  if (auto* list = r->find("events")) {
    if (list->type != msgpack::type::ARRAY)
      return make_error(errc::bad_frame, "events frame: 'events' is no list");
    for (uint32_t i = 0; i < list->via.array.size; ++i) {
      auto ev = decode_event(sky::encode(list->via.array.ptr[i]));
      if (!ev)
        return ev.error();
      frame.events.push_back(std::move(*ev));
    }
  }
  return frame;
}

std::string encode(const credit_notice& notice) {
  return map_writer{2}.add("stream", notice.stream).add("n", notice.n).bytes();
}

result<credit_notice> decode_credit_notice(std::string_view body) {
  auto r = body_reader::parse(body, "credit notice");
  if (!r)
    return r.error();
  credit_notice notice;
  if (auto err = read_into(notice.stream, r->u64("stream", 0)))
    return err;
  uint64_t n = 0;
  if (auto err = read_into(n, r->u64("n", 0)))
    return err;
  notice.n = static_cast<uint32_t>(std::min<uint64_t>(n, 65536));
  return notice;
}

std::string encode_cancel_notice(uint64_t stream) {
  return map_writer{1}.add("stream", stream).bytes();
}

result<uint64_t> decode_cancel_notice(std::string_view body) {
  auto r = body_reader::parse(body, "cancel notice");
  if (!r)
    return r.error();
  return r->u64("stream", 0);
}

std::string encode(const daemon_status& st) {
  return map_writer{15}
    .add("version", st.version)
    .add("pid", st.pid)
    .add("home", st.home)
    .add("started_at", st.started_at_ms)
    .add("uptime_ms", st.uptime_ms)
    .add("first_seq", st.first_seq)
    .add("last_seq", st.last_seq)
    .add("rss_bytes", st.rss_bytes)
    .add("clusters", st.clusters)
    .add("jobs", st.jobs)
    .add("managed_jobs", st.managed_jobs)
    .add("reconciled_at", st.reconciled_at_ms)
    .add("provider_clusters", st.provider_clusters)
    .add("orphans", st.orphans)
    .add("reconcile_problems", st.reconcile_problems)
    .bytes();
}

result<daemon_status> decode_daemon_status(std::string_view body) {
  auto r = body_reader::parse(body, "daemon status");
  if (!r)
    return r.error();
  daemon_status st;
  if (auto err = read_into(st.version, r->str("version", "")))
    return err;
  if (auto err = read_into(st.pid, r->i64("pid", 0)))
    return err;
  if (auto err = read_into(st.home, r->str("home", "")))
    return err;
  if (auto err = read_into(st.started_at_ms, r->i64("started_at", 0)))
    return err;
  if (auto err = read_into(st.uptime_ms, r->i64("uptime_ms", 0)))
    return err;
  if (auto err = read_into(st.first_seq, r->u64("first_seq", 0)))
    return err;
  if (auto err = read_into(st.last_seq, r->u64("last_seq", 0)))
    return err;
  if (auto err = read_into(st.rss_bytes, r->i64("rss_bytes", 0)))
    return err;
  if (auto err = read_into(st.clusters, r->u64("clusters", 0)))
    return err;
  if (auto err = read_into(st.jobs, r->u64("jobs", 0)))
    return err;
  if (auto err = read_into(st.managed_jobs, r->u64("managed_jobs", 0)))
    return err;
  if (auto err = read_into(st.reconciled_at_ms, r->i64("reconciled_at", 0)))
    return err;
  if (auto err
      = read_into(st.provider_clusters, r->u64("provider_clusters", 0)))
    return err;
  if (auto err = read_into(st.orphans, r->str("orphans", "")))
    return err;
  if (auto err
      = read_into(st.reconcile_problems, r->str("reconcile_problems", "")))
    return err;
  return st;
}

} // namespace sky::protocol
