#pragma once

// msgpack codec of the task model: skyctl sends the parsed task to skyd,
// and skyd persists it in snapshots and events.
//
// Format: msgpack maps keyed by the field names of task_spec.hpp (so a
// reader can find its way without this code); an absent optional is an
// absent key; enums are their names ("at_least", "ordered"). The top-level
// map carries "format": 1. Decoding ignores keys it does not know (a newer
// writer may add fields), keeps defaults for absent ones, and returns an
// error value for anything malformed: truncated or garbage bytes
// (`errc::bad_frame`) or a value of the wrong type or range
// (`errc::bad_request`, naming the field path).

#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "messages/result.hpp"
#include "messages/task/task_spec.hpp"

namespace sky::task {

/// Version of the encoding written by this build.
inline constexpr int task_codec_format = 1;

std::string encode_pipeline(const pipeline_spec& pipeline);
result<pipeline_spec> decode_pipeline(std::string_view bytes);
/// Decodes a pipeline embedded in a larger msgpack document.
result<pipeline_spec> decode_pipeline(const msgpack::object& obj);

std::string encode_task(const task_spec& task);
result<task_spec> decode_task(std::string_view bytes);
/// Decodes a task embedded in a larger msgpack document.
result<task_spec> decode_task(const msgpack::object& obj);

} // namespace sky::task
