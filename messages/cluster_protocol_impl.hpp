#pragma once

// Template definitions for cluster_protocol.hpp.

#include "messages/msgpack_util.hpp"

namespace sky::protocol {

template <class T>
result<T> decode_as(std::string_view body, std::string_view what) {
  if (body.empty())
    body = std::string_view{"\x80", 1};
  auto doc = decode_document(body, what);
  if (!doc)
    return doc.error();
  if (doc->get().type == msgpack::type::NIL)
    return T{};
  return convert_to<T>(doc->get(), what);
}

} // namespace sky::protocol
