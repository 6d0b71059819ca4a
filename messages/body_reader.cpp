#include "messages/body_reader.hpp"

namespace sky {

result<body_reader> body_reader::parse(std::string_view bytes,
                                       std::string_view what) {
  if (bytes.empty())
    bytes = std::string_view{"\x80", 1};
  auto doc = decode_document(bytes, what);
  if (!doc)
    return doc.error();
  auto type = doc->get().type;
  if (type != msgpack::type::MAP && type != msgpack::type::NIL)
    return make_error(errc::bad_request, std::string{what} + " must be a map",
                      "send the arguments as a msgpack map");
  return body_reader{std::move(*doc), std::string{what}};
}

body_reader::body_reader(msgpack::object_handle doc, std::string what)
  : doc_(std::make_shared<msgpack::object_handle>(std::move(doc))),
    what_(std::move(what)) {}

const msgpack::object* body_reader::find(std::string_view key) const {
  auto* obj = find_key(doc_->get(), key);
  if (obj != nullptr && obj->type == msgpack::type::NIL)
    return nullptr; // nil means "not given"
  return obj;
}

bool body_reader::has(std::string_view key) const {
  return find(key) != nullptr;
}

caf::error body_reader::wrong_type(std::string_view key,
                                   std::string_view expected) const {
  return make_error(errc::bad_request, what_ + ": field '" + std::string{key}
                                         + "' must be "
                                         + std::string{expected});
}

result<uint64_t> body_reader::u64(std::string_view key,
                                  uint64_t fallback) const {
  auto* obj = find(key);
  if (obj == nullptr)
    return fallback;
  if (obj->type != msgpack::type::POSITIVE_INTEGER)
    return wrong_type(key, "a non-negative integer");
  return obj->via.u64;
}

result<int64_t> body_reader::i64(std::string_view key, int64_t fallback) const {
  auto* obj = find(key);
  if (obj == nullptr)
    return fallback;
  if (obj->type == msgpack::type::NEGATIVE_INTEGER)
    return obj->via.i64;
  if (obj->type == msgpack::type::POSITIVE_INTEGER
      && obj->via.u64 <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(obj->via.u64);
  return wrong_type(key, "an integer");
}

result<double> body_reader::f64(std::string_view key, double fallback) const {
  auto* obj = find(key);
  if (obj == nullptr)
    return fallback;
  switch (obj->type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return obj->via.f64;
    case msgpack::type::POSITIVE_INTEGER:
      return static_cast<double>(obj->via.u64);
    case msgpack::type::NEGATIVE_INTEGER:
      return static_cast<double>(obj->via.i64);
    default:
      return wrong_type(key, "a number");
  }
}

result<bool> body_reader::boolean(std::string_view key, bool fallback) const {
  auto* obj = find(key);
  if (obj == nullptr)
    return fallback;
  if (obj->type != msgpack::type::BOOLEAN)
    return wrong_type(key, "true or false");
  return obj->via.boolean;
}

result<std::string> body_reader::str(std::string_view key,
                                     std::string fallback) const {
  auto* obj = find(key);
  if (obj == nullptr)
    return fallback;
  if (obj->type != msgpack::type::STR)
    return wrong_type(key, "a string");
  return std::string{obj->via.str.ptr, obj->via.str.size};
}

result<std::vector<std::string>>
body_reader::str_list(std::string_view key) const {
  std::vector<std::string> out;
  auto* obj = find(key);
  if (obj == nullptr)
    return out;
  if (obj->type != msgpack::type::ARRAY)
    return wrong_type(key, "a list of strings");
  for (uint32_t i = 0; i < obj->via.array.size; ++i) {
    const auto& item = obj->via.array.ptr[i];
    if (item.type != msgpack::type::STR)
      return wrong_type(key, "a list of strings");
    out.emplace_back(item.via.str.ptr, item.via.str.size);
  }
  return out;
}

} // namespace sky
