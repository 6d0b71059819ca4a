#pragma once

// Helpers around msgpack-cxx shared by the wire codec, events and bodies.

#include <cstdint>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "messages/result.hpp"

namespace sky {

/// Limits applied to every msgpack document decoded from outside (wire frames,
/// stored events). A declared container size can never exceed the bytes that
/// follow it, so bounding counts by the input size stops a 5-byte frame from
/// making the decoder allocate gigabytes.
msgpack::unpack_limit decode_limits(size_t input_size);

/// Decodes exactly one msgpack document from `bytes`. Trailing bytes, truncated
/// input, garbage and documents past the limits are `errc::bad_frame` errors
/// naming `what` (for example "request body").
result<msgpack::object_handle> decode_document(std::string_view bytes,
                                               std::string_view what);

/// Converts a decoded object to T, mapping msgpack's type errors to
/// `errc::bad_request` with a message naming `what`.
template <class T>
result<T> convert_to(const msgpack::object& obj, std::string_view what) {
  try {
    T value{};
    obj.convert(value);
    return value;
  } catch (const std::exception& e) {
    return make_error(errc::bad_request,
                      std::string{what} + " has the wrong shape (" + e.what()
                        + ")",
                      "check the client and daemon versions match");
  }
}

/// Encodes a value with msgpack into a string.
template <class T>
std::string encode(const T& value) {
  msgpack::sbuffer buf;
  msgpack::pack(buf, value);
  return std::string{buf.data(), buf.size()};
}

/// Builds a msgpack map incrementally (for event fields and ad-hoc bodies).
/// The number of entries must be known up front because msgpack writes the
/// map header first.
class map_writer {
public:
  explicit map_writer(uint32_t entries) : packer_(buf_) {
    packer_.pack_map(entries);
  }

  template <class T>
  map_writer& add(std::string_view key, const T& value) {
    packer_.pack(key);
    packer_.pack(value);
    return *this;
  }

  /// Adds a value that is already msgpack-encoded.
  map_writer& add_raw(std::string_view key, std::string_view encoded) {
    packer_.pack(key);
    buf_.write(encoded.data(), encoded.size());
    return *this;
  }

  std::string bytes() const { return std::string{buf_.data(), buf_.size()}; }

private:
  msgpack::sbuffer buf_;
  msgpack::packer<msgpack::sbuffer> packer_;
};

/// Looks up a key of a msgpack map; nullptr when absent or not a map.
const msgpack::object* find_key(const msgpack::object& map,
                                std::string_view key);

} // namespace sky
