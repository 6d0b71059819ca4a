#include "messages/event.hpp"

#include "messages/msgpack_util.hpp"

namespace sky {

namespace {

constexpr std::string_view empty_map = "\x80";

} // namespace

std::string encode_event(const event& ev) {
  return map_writer{5}
    .add("seq", ev.seq)
    .add("time", ev.time_ms)
    .add("kind", ev.kind)
    .add("entity", ev.entity)
    .add_raw("fields", ev.fields.empty() ? empty_map : ev.fields)
    .bytes();
}

result<event> decode_event(std::string_view bytes) {
  auto doc = decode_document(bytes, "event");
  if (!doc)
    return doc.error();
  const auto& map = doc->get();
  auto bad = [](std::string_view what) {
    return make_error(errc::bad_frame, "event field '" + std::string{what}
                                         + "' is missing or "
                                           "has the wrong type");
  };
  event ev;
  auto* seq = find_key(map, "seq");
  if (seq == nullptr || seq->type != msgpack::type::POSITIVE_INTEGER)
    return bad("seq");
  ev.seq = seq->via.u64;
  auto* time = find_key(map, "time");
  if (time == nullptr
      || (time->type != msgpack::type::POSITIVE_INTEGER
          && time->type != msgpack::type::NEGATIVE_INTEGER))
    return bad("time");
  ev.time_ms = time->via.i64;
  for (auto [key, out] :
       {std::pair{"kind", &ev.kind}, std::pair{"entity", &ev.entity}}) {
    auto* obj = find_key(map, key);
    if (obj == nullptr || obj->type != msgpack::type::STR)
      return bad(key);
    out->assign(obj->via.str.ptr, obj->via.str.size);
  }
  auto* fields = find_key(map, "fields");
  if (fields == nullptr || fields->type != msgpack::type::MAP)
    return bad("fields");
  if (fields->via.map.size > 0)
    ev.fields = encode(*fields);
  return ev;
}

result<void> validate_entity(std::string_view entity) {
  if (entity.empty() || entity.size() > 256)
    return make_error(errc::invalid_argument,
                      "event entity must be 1 to 256 characters");
  for (char c : entity)
    if (c < 0x21 || c > 0x7e)
      return make_error(errc::invalid_argument,
                        "event entity '" + std::string{entity}
                          + "' has a space or non-printable character");
  return {};
}

} // namespace sky
