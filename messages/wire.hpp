#pragma once

// The control protocol between skyctl (or any client) and skyd.
//
// A request is two ZeroMQ frames: [envelope][body]. The envelope is a msgpack
// map {v, id, verb}; the body is one msgpack document (nil when the verb takes
// no arguments). Replies are [envelope][body] with envelope {v, id, status}:
//   status "ok"    final reply, body is the result
//   status "more"  one item of a stream; more replies follow
//   status "error" final reply, body is {code, message, hint}
// Requests with id 0 are notifications (stream credit, stream cancel): skyd
// never answers them. A frame skyd cannot decode far enough to read its id is
// answered with an error carrying id 0.

#include <cstdint>
#include <string>
#include <string_view>

#include "messages/result.hpp"

namespace sky::wire {

/// Version of the envelope layout. Bumped only for incompatible changes.
constexpr uint32_t protocol_version = 1;

/// Default bound on one frame; config key `wire.max_message_bytes`.
constexpr size_t default_max_message_bytes = size_t{16} << 20;

/// Number of stream frames a client may receive before it must grant credit.
constexpr uint32_t default_stream_window = 64;

enum class status : uint8_t { ok, more, error };

std::string_view to_string(status s) noexcept;

struct request_envelope {
  uint64_t id = 0;
  std::string verb;
};

struct reply_envelope {
  uint64_t id = 0;
  wire::status status = status::ok;
};

std::string encode_request_envelope(uint64_t id, std::string_view verb);
std::string encode_reply_envelope(uint64_t id, status st);

/// Decodes a request envelope. On failure `id_out` holds the request id when
/// the envelope was readable far enough to contain one (else 0), so that the
/// error reply reaches the right caller.
result<request_envelope> decode_request_envelope(std::string_view bytes,
                                                 uint64_t& id_out);

result<reply_envelope> decode_reply_envelope(std::string_view bytes);

/// The msgpack encoding of nil: the body of verbs without arguments.
std::string_view nil_body() noexcept;

std::string encode_error_body(const error_info& info);
result<error_info> decode_error_body(std::string_view bytes);

} // namespace sky::wire
