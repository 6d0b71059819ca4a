#include "messages/wire.hpp"

#include "messages/msgpack_util.hpp"

namespace sky::wire {

namespace {

constexpr std::string_view status_names[] = {"ok", "more", "error"};

// Reads an unsigned integer field; false when absent or of another type.
bool read_uint(const msgpack::object& map, std::string_view key,
               uint64_t& out) {
  auto* obj = find_key(map, key);
  if (obj == nullptr || obj->type != msgpack::type::POSITIVE_INTEGER)
    return false;
  out = obj->via.u64;
  return true;
}

bool read_str(const msgpack::object& map, std::string_view key,
              std::string& out) {
  auto* obj = find_key(map, key);
  if (obj == nullptr || obj->type != msgpack::type::STR)
    return false;
  out.assign(obj->via.str.ptr, obj->via.str.size);
  return true;
}

} // namespace

std::string_view to_string(status s) noexcept {
  return status_names[static_cast<size_t>(s)];
}

std::string encode_request_envelope(uint64_t id, std::string_view verb) {
  return map_writer{3}
    .add("v", protocol_version)
    .add("id", id)
    .add("verb", verb)
    .bytes();
}

std::string encode_reply_envelope(uint64_t id, status st) {
  return map_writer{3}
    .add("v", protocol_version)
    .add("id", id)
    .add("status", to_string(st))
    .bytes();
}

result<request_envelope> decode_request_envelope(std::string_view bytes,
                                                 uint64_t& id_out) {
  id_out = 0;
  auto doc = decode_document(bytes, "request envelope");
  if (!doc)
    return doc.error();
  const auto& map = doc->get();
  if (map.type != msgpack::type::MAP)
    return make_error(errc::bad_frame, "request envelope is not a map",
                      "send {v, id, verb} as a msgpack map");
  request_envelope env;
  if (!read_uint(map, "id", env.id))
    return make_error(errc::bad_frame,
                      "request envelope has no unsigned integer 'id'",
                      "send {v, id, verb} as a msgpack map");
  id_out = env.id;
  uint64_t version = 0;
  if (!read_uint(map, "v", version))
    return make_error(errc::bad_frame,
                      "request envelope has no unsigned integer 'v'",
                      "send {v: 1, id, verb}");
  if (version != protocol_version)
    return make_error(errc::unsupported_version,
                      "protocol version " + std::to_string(version)
                        + " is not supported (skyd speaks "
                        + std::to_string(protocol_version) + ")",
                      "use a skyctl of the same release as skyd");
  if (!read_str(map, "verb", env.verb) || env.verb.empty())
    return make_error(errc::bad_frame, "request envelope has no string 'verb'",
                      "send {v, id, verb} as a msgpack map");
  return env;
}

result<reply_envelope> decode_reply_envelope(std::string_view bytes) {
  auto doc = decode_document(bytes, "reply envelope");
  if (!doc)
    return doc.error();
  const auto& map = doc->get();
  reply_envelope env;
  uint64_t version = 0;
  std::string st;
  if (map.type != msgpack::type::MAP || !read_uint(map, "v", version)
      || !read_uint(map, "id", env.id) || !read_str(map, "status", st))
    return make_error(errc::bad_frame,
                      "reply envelope is not a map {v, id, status}");
  if (version != protocol_version)
    return make_error(errc::unsupported_version,
                      "skyd answered with protocol version "
                        + std::to_string(version),
                      "use a skyctl of the same release as skyd");
  if (st == "ok")
    env.status = status::ok;
  else if (st == "more")
    env.status = status::more;
  else if (st == "error")
    env.status = status::error;
  else
    return make_error(errc::bad_frame, "reply status '" + st + "' is unknown");
  return env;
}

std::string_view nil_body() noexcept {
  static constexpr char nil[] = "\xc0";
  return {nil, 1};
}

std::string encode_error_body(const error_info& info) {
  return map_writer{3}
    .add("code", sky::to_string(info.code))
    .add("message", info.message)
    .add("hint", info.hint)
    .bytes();
}

result<error_info> decode_error_body(std::string_view bytes) {
  auto doc = decode_document(bytes, "error body");
  if (!doc)
    return doc.error();
  const auto& map = doc->get();
  std::string code;
  error_info info;
  if (map.type != msgpack::type::MAP || !read_str(map, "code", code)
      || !read_str(map, "message", info.message))
    return make_error(errc::bad_frame,
                      "error body is not a map {code, message, hint}");
  read_str(map, "hint", info.hint);
  // A code from a newer daemon is still shown; it maps to internal here.
  info.code = errc_from_string(code).value_or(errc::internal);
  return info;
}

} // namespace sky::wire
