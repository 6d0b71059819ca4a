// libFuzzer harness for the task YAML parser and the task codec.
//
// Properties checked on every input:
//  - parse_task_yaml returns a value or an error and never crashes, hangs or
//    throws (the sanitizers and libFuzzer's timeout watch the rest);
//  - every error message starts with "fuzz.yaml:" (a location);
//  - a parsed pipeline survives encode -> decode unchanged;
//  - decode of arbitrary bytes (the input itself) is a value or an error.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "messages/task/parse_task.hpp"
#include "messages/task/task_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  auto parsed = sky::task::parse_task_yaml(text, "fuzz.yaml");
  if (parsed) {
    auto bytes = sky::task::encode_pipeline(*parsed);
    auto back = sky::task::decode_pipeline(bytes);
    if (!back || !(*back == *parsed))
      std::abort();
  } else {
    auto info = sky::describe(parsed.error());
    if (info.message.rfind("fuzz.yaml:", 0) != 0 || info.hint.empty())
      std::abort();
  }
  // The same bytes as a msgpack document: garbage must decode to an error.
  auto decoded = sky::task::decode_pipeline(text);
  if (decoded) {
    auto again
      = sky::task::decode_pipeline(sky::task::encode_pipeline(*decoded));
    if (!again || !(*again == *decoded))
      std::abort();
  }
  return 0;
}
