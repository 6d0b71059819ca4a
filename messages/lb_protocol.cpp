#include "messages/lb_protocol.hpp"

#include <algorithm>
#include <stdexcept>

#include <msgpack.hpp>

namespace sky::lb {
namespace {

using packer = msgpack::packer<msgpack::sbuffer>;

// ---- encoding ----

void key(packer& p, std::string_view k) {
  p.pack(k);
}

void head(packer& p, uint32_t entries, std::string_view verb) {
  p.pack_map(entries + 2);
  key(p, "v");
  p.pack(protocol_version);
  key(p, "verb");
  p.pack(verb);
}

void pack_strings(packer& p, const std::vector<std::string>& values) {
  p.pack_array(static_cast<uint32_t>(values.size()));
  for (const auto& v : values)
    p.pack(v);
}

struct request_encoder {
  packer& p;
  void operator()(const hello_request&) const { head(p, 0, "hello"); }
  void operator()(const routes_request& r) const {
    head(p, 7, "routes");
    key(p, "service");
    p.pack(r.service);
    key(p, "bind_address");
    p.pack(r.bind_address);
    key(p, "port");
    p.pack(r.port);
    key(p, "policy");
    p.pack(to_string(r.balancing));
    key(p, "endpoints");
    pack_strings(p, r.endpoints);
    key(p, "queue_timeout_ms");
    p.pack(r.queue_timeout_ms);
    key(p, "generation");
    p.pack(r.generation);
  }
  void operator()(const remove_request& r) const {
    head(p, 1, "remove");
    key(p, "service");
    p.pack(r.service);
  }
  void operator()(const report_request&) const { head(p, 0, "report"); }
};

void pack_report(packer& p, const service_report& s) {
  p.pack_map(8);
  key(p, "responses");
  p.pack_map(static_cast<uint32_t>(s.responses.size()));
  for (const auto& [status_class, count] : s.responses) {
    p.pack(status_class);
    p.pack(count);
  }
  key(p, "service");
  p.pack(s.service);
  key(p, "generation");
  p.pack(s.generation);
  key(p, "requests");
  p.pack_array(static_cast<uint32_t>(s.requests.size()));
  for (const auto& [second, count] : s.requests) {
    p.pack_array(2);
    p.pack(second);
    p.pack(count);
  }
  key(p, "in_flight");
  p.pack(s.in_flight);
  key(p, "queued");
  p.pack(s.queued);
  key(p, "endpoints");
  p.pack_array(static_cast<uint32_t>(s.endpoints.size()));
  for (const auto& e : s.endpoints) {
    p.pack_map(2);
    key(p, "endpoint");
    p.pack(e.endpoint);
    key(p, "in_flight");
    p.pack(e.in_flight);
  }
  key(p, "ejected");
  p.pack_array(static_cast<uint32_t>(s.ejected.size()));
  for (const auto& e : s.ejected) {
    p.pack_map(3);
    key(p, "endpoint");
    p.pack(e.endpoint);
    key(p, "reason");
    p.pack(e.reason);
    key(p, "at_ms");
    p.pack(e.at_ms);
  }
}

struct reply_encoder {
  packer& p;
  void operator()(const hello_reply& r) const {
    head(p, 4, "hello");
    key(p, "lb_version");
    p.pack(r.lb_version);
    key(p, "pid");
    p.pack(r.pid);
    key(p, "started_at_ms");
    p.pack(r.started_at_ms);
    key(p, "services");
    p.pack_array(static_cast<uint32_t>(r.services.size()));
    for (const auto& s : r.services) {
      p.pack_map(4);
      key(p, "service");
      p.pack(s.service);
      key(p, "generation");
      p.pack(s.generation);
      key(p, "port");
      p.pack(s.port);
      key(p, "listening");
      p.pack(s.listening);
    }
  }
  void operator()(const routes_ack& r) const {
    head(p, 5, "ack");
    key(p, "service");
    p.pack(r.service);
    key(p, "generation");
    p.pack(r.generation);
    key(p, "listening");
    p.pack(r.listening);
    key(p, "port");
    p.pack(r.port);
    key(p, "error");
    p.pack(r.error);
  }
  void operator()(const remove_ack& r) const {
    head(p, 2, "removed");
    key(p, "service");
    p.pack(r.service);
    key(p, "removed");
    p.pack(r.removed);
  }
  void operator()(const report_reply& r) const {
    head(p, 1, "report");
    key(p, "services");
    p.pack_array(static_cast<uint32_t>(r.services.size()));
    for (const auto& s : r.services)
      pack_report(p, s);
  }
  void operator()(const error_reply& r) const {
    head(p, 1, "error");
    key(p, "message");
    p.pack(r.message);
  }
};

// ---- decoding ----

/// Thrown inside the decoder only; the message names the field.
struct bad_field : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A msgpack map read by key. `path` prefixes field names in errors
/// ("services[0].requests").
class map_view {
public:
  map_view(const msgpack::object& obj, std::string path)
    : obj_(obj), path_(std::move(path)) {
    if (obj.type != msgpack::type::MAP)
      throw bad_field((path_.empty() ? std::string{"message"} : path_)
                      + " is not a map");
  }

  const msgpack::object* find(std::string_view k) const {
    for (uint32_t i = 0; i < obj_.via.map.size; ++i) {
      const auto& kv = obj_.via.map.ptr[i];
      if (kv.key.type == msgpack::type::STR
          && std::string_view{kv.key.via.str.ptr, kv.key.via.str.size} == k)
        return &kv.val;
    }
    return nullptr;
  }

  std::string name(std::string_view k) const {
    return path_.empty() ? std::string{k} : path_ + "." + std::string{k};
  }

  std::string str(std::string_view k, std::string fallback = {}) const {
    const auto* o = find(k);
    if (o == nullptr)
      return fallback;
    return as_str(*o, name(k));
  }

  std::string required_str(std::string_view k) const {
    if (find(k) == nullptr)
      throw bad_field(name(k) + " is missing");
    return str(k);
  }

  uint64_t u64(std::string_view k, uint64_t fallback = 0) const {
    const auto* o = find(k);
    if (o == nullptr)
      return fallback;
    return as_u64(*o, name(k));
  }

  int64_t i64(std::string_view k, int64_t fallback = 0) const {
    const auto* o = find(k);
    if (o == nullptr)
      return fallback;
    return as_i64(*o, name(k));
  }

  bool boolean(std::string_view k, bool fallback = false) const {
    const auto* o = find(k);
    if (o == nullptr)
      return fallback;
    if (o->type != msgpack::type::BOOLEAN)
      throw bad_field(name(k) + " must be a boolean");
    return o->via.boolean;
  }

  /// The array at `k` (empty when absent).
  std::vector<const msgpack::object*> array(std::string_view k) const {
    std::vector<const msgpack::object*> out;
    const auto* o = find(k);
    if (o == nullptr)
      return out;
    if (o->type != msgpack::type::ARRAY)
      throw bad_field(name(k) + " must be an array");
    for (uint32_t i = 0; i < o->via.array.size; ++i)
      out.push_back(&o->via.array.ptr[i]);
    return out;
  }

  static std::string as_str(const msgpack::object& o, const std::string& n) {
    if (o.type != msgpack::type::STR)
      throw bad_field(n + " must be a string");
    return std::string{o.via.str.ptr, o.via.str.size};
  }

  static uint64_t as_u64(const msgpack::object& o, const std::string& n) {
    if (o.type != msgpack::type::POSITIVE_INTEGER)
      throw bad_field(n + " must be a non-negative integer");
    return o.via.u64;
  }

  static int64_t as_i64(const msgpack::object& o, const std::string& n) {
    if (o.type == msgpack::type::NEGATIVE_INTEGER)
      return o.via.i64;
    if (o.type == msgpack::type::POSITIVE_INTEGER && o.via.u64 <= INT64_MAX)
      return static_cast<int64_t>(o.via.u64);
    throw bad_field(n + " must be an integer");
  }

private:
  const msgpack::object& obj_;
  std::string path_;
};

std::string indexed(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

uint16_t port_of(const map_view& m) {
  const uint64_t port = m.u64("port", 0);
  if (port > 65535)
    throw bad_field(m.name("port") + " must be at most 65535");
  return static_cast<uint16_t>(port);
}

routes_request decode_routes(const map_view& m) {
  routes_request r;
  r.service = m.required_str("service");
  if (r.service.empty())
    throw bad_field("service must not be empty");
  r.bind_address = m.str("bind_address", r.bind_address);
  r.port = port_of(m);
  const std::string policy_text = m.str("policy", "least_load");
  const auto p = parse_policy(policy_text);
  if (!p)
    throw bad_field("policy must be least_load or round_robin, not '"
                    + policy_text + "'");
  r.balancing = *p;
  const auto endpoints = m.array("endpoints");
  for (size_t i = 0; i < endpoints.size(); ++i) {
    auto text = map_view::as_str(*endpoints[i], indexed("endpoints", i));
    const auto colon = text.rfind(':');
    const auto port = colon == std::string::npos
                        ? std::string_view{}
                        : std::string_view{text}.substr(colon + 1);
    const bool numeric
      = !port.empty() && port.size() <= 5
        && std::all_of(port.begin(), port.end(),
                       [](char c) { return c >= '0' && c <= '9'; })
        && std::stoul(std::string{port}) >= 1
        && std::stoul(std::string{port}) <= 65535;
    if (colon == 0 || !numeric)
      throw bad_field(indexed("endpoints", i) + " must be host:port, not '"
                      + text + "'");
    r.endpoints.push_back(std::move(text));
  }
  r.queue_timeout_ms = m.u64("queue_timeout_ms", r.queue_timeout_ms);
  r.generation = m.u64("generation", 0);
  return r;
}

request decode_request_map(const map_view& m, const std::string& verb) {
  if (verb == "hello")
    return hello_request{};
  if (verb == "report")
    return report_request{};
  if (verb == "routes")
    return decode_routes(m);
  if (verb == "remove")
    return remove_request{m.required_str("service")};
  throw bad_field("verb '" + verb
                  + "' is not one of hello, routes, remove, report");
}

service_report decode_service_report(const map_view& m) {
  service_report s;
  s.service = m.str("service");
  s.generation = m.u64("generation");
  const auto requests = m.array("requests");
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto name = indexed(m.name("requests"), i);
    const auto& pair = *requests[i];
    if (pair.type != msgpack::type::ARRAY || pair.via.array.size != 2)
      throw bad_field(name + " must be [unix_second, count]");
    s.requests.emplace_back(map_view::as_i64(pair.via.array.ptr[0], name),
                            map_view::as_u64(pair.via.array.ptr[1], name));
  }
  s.in_flight = m.u64("in_flight");
  s.queued = m.u64("queued");
  const auto endpoints = m.array("endpoints");
  for (size_t i = 0; i < endpoints.size(); ++i) {
    map_view e{*endpoints[i], indexed(m.name("endpoints"), i)};
    s.endpoints.push_back({e.str("endpoint"), e.u64("in_flight")});
  }
  const auto ejected = m.array("ejected");
  for (size_t i = 0; i < ejected.size(); ++i) {
    map_view e{*ejected[i], indexed(m.name("ejected"), i)};
    s.ejected.push_back({e.str("endpoint"), e.str("reason"), e.u64("at_ms")});
  }
  if (m.find("responses") != nullptr) {
    map_view r{*m.find("responses"), m.name("responses")};
    const auto& obj = *m.find("responses");
    for (uint32_t i = 0; i < obj.via.map.size; ++i) {
      const auto& kv = obj.via.map.ptr[i];
      const auto name = m.name("responses");
      s.responses[map_view::as_str(kv.key, name)]
        = map_view::as_u64(kv.val, name + "." + map_view::as_str(kv.key, name));
    }
  }
  return s;
}

reply decode_reply_map(const map_view& m, const std::string& verb) {
  if (verb == "hello") {
    hello_reply r;
    r.lb_version = static_cast<uint32_t>(m.u64("lb_version"));
    r.pid = m.i64("pid");
    r.started_at_ms = m.u64("started_at_ms");
    const auto services = m.array("services");
    for (size_t i = 0; i < services.size(); ++i) {
      map_view s{*services[i], indexed("services", i)};
      r.services.push_back({s.str("service"), s.u64("generation"), port_of(s),
                            s.boolean("listening")});
    }
    return r;
  }
  if (verb == "ack")
    return routes_ack{m.str("service"), m.u64("generation"),
                      m.boolean("listening"), port_of(m), m.str("error")};
  if (verb == "removed")
    return remove_ack{m.str("service"), m.boolean("removed")};
  if (verb == "report") {
    report_reply r;
    const auto services = m.array("services");
    for (size_t i = 0; i < services.size(); ++i)
      r.services.push_back(
        decode_service_report(map_view{*services[i], indexed("services", i)}));
    return r;
  }
  if (verb == "error")
    return error_reply{m.str("message")};
  throw bad_field("verb '" + verb
                  + "' is not one of hello, ack, removed, report, error");
}

template <class T, class Fn>
decoded<T> decode_with(std::string_view bytes, Fn&& fn) {
  decoded<T> out;
  if (bytes.empty()) {
    out.error = "message is empty";
    return out;
  }
  try {
    size_t offset = 0;
    // Counts bounded by the input size: a tiny frame cannot declare a huge
    // container and make msgpack allocate for it.
    const size_t n = std::max<size_t>(bytes.size(), 16);
    auto handle
      = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr,
                        msgpack::unpack_limit(n, n, n, n, n, 32));
    if (offset != bytes.size())
      throw bad_field("message has trailing bytes");
    map_view m{handle.get(), ""};
    const uint64_t v = m.u64("v", protocol_version);
    if (v != protocol_version)
      throw bad_field("v is " + std::to_string(v) + ", this side speaks "
                      + std::to_string(protocol_version));
    out.value = fn(m, m.required_str("verb"));
  } catch (const bad_field& e) {
    out.error = e.what();
  } catch (const msgpack::insufficient_bytes&) {
    out.error = "message is truncated";
  } catch (const std::exception& e) {
    out.error = std::string{"message is not valid msgpack ("} + e.what() + ")";
  }
  return out;
}

} // namespace

std::string_view to_string(policy p) {
  return p == policy::round_robin ? "round_robin" : "least_load";
}

std::optional<policy> parse_policy(std::string_view text) {
  if (text == "least_load")
    return policy::least_load;
  if (text == "round_robin")
    return policy::round_robin;
  return std::nullopt;
}

std::string encode(const request& r) {
  msgpack::sbuffer buf;
  packer p{buf};
  std::visit(request_encoder{p}, r);
  return {buf.data(), buf.size()};
}

std::string encode(const reply& r) {
  msgpack::sbuffer buf;
  packer p{buf};
  std::visit(reply_encoder{p}, r);
  return {buf.data(), buf.size()};
}

decoded<request> decode_request(std::string_view bytes) {
  return decode_with<request>(bytes, decode_request_map);
}

decoded<reply> decode_reply(std::string_view bytes) {
  return decode_with<reply>(bytes, decode_reply_map);
}

} // namespace sky::lb
