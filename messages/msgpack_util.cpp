#include "messages/msgpack_util.hpp"

#include <algorithm>

namespace sky {

msgpack::unpack_limit decode_limits(size_t input_size) {
  // Deep nesting is never legitimate in skyd's messages.
  constexpr size_t max_depth = 64;
  const size_t count = std::max<size_t>(input_size, 16);
  return msgpack::unpack_limit(count, count, input_size, input_size, input_size,
                               max_depth);
}

result<msgpack::object_handle> decode_document(std::string_view bytes,
                                               std::string_view what) {
  if (bytes.empty())
    return make_error(errc::bad_frame, std::string{what} + " is empty",
                      "send one msgpack document per frame");
  try {
    size_t offset = 0;
    auto handle = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr,
                                  nullptr, decode_limits(bytes.size()));
    if (offset != bytes.size())
      return make_error(errc::bad_frame,
                        std::string{what} + " has "
                          + std::to_string(bytes.size() - offset)
                          + " trailing bytes after its msgpack document",
                        "send exactly one msgpack document per frame");
    return handle;
  } catch (const msgpack::insufficient_bytes&) {
    return make_error(errc::bad_frame,
                      std::string{what} + " is truncated ("
                        + std::to_string(bytes.size()) + " bytes)",
                      "send whole msgpack documents");
  } catch (const std::exception& e) {
    return make_error(errc::bad_frame,
                      std::string{what} + " is not valid msgpack (" + e.what()
                        + ")",
                      "send one msgpack document per frame");
  }
}

const msgpack::object* find_key(const msgpack::object& map,
                                std::string_view key) {
  if (map.type != msgpack::type::MAP)
    return nullptr;
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& kv = map.via.map.ptr[i];
    if (kv.key.type == msgpack::type::STR
        && std::string_view{kv.key.via.str.ptr, kv.key.via.str.size} == key)
      return &kv.val;
  }
  return nullptr;
}

} // namespace sky
