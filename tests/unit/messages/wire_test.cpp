#include <catch2/catch.hpp>

#include <random>

#include "messages/msgpack_util.hpp"
#include "messages/wire.hpp"

using namespace sky;

TEST_CASE("request envelopes round-trip") {
  for (uint64_t id : {uint64_t{1}, uint64_t{255}, uint64_t{1} << 40}) {
    auto bytes = wire::encode_request_envelope(id, "events");
    uint64_t seen = 0;
    auto env = wire::decode_request_envelope(bytes, seen);
    REQUIRE(env);
    CHECK(env->id == id);
    CHECK(env->verb == "events");
    CHECK(seen == id);
  }
}

TEST_CASE("reply envelopes round-trip every status") {
  for (auto st : {wire::status::ok, wire::status::more, wire::status::error}) {
    auto env = wire::decode_reply_envelope(wire::encode_reply_envelope(7, st));
    REQUIRE(env);
    CHECK(env->id == 7);
    CHECK(env->status == st);
  }
}

TEST_CASE("error bodies round-trip and keep unknown codes readable") {
  error_info in{errc::unknown_verb, "no verb 'pnig'", "did you mean 'ping'?"};
  auto out = wire::decode_error_body(wire::encode_error_body(in));
  REQUIRE(out);
  CHECK(out->code == errc::unknown_verb);
  CHECK(out->message == in.message);
  CHECK(out->hint == in.hint);
  auto future
    = map_writer{2}.add("code", "from_the_future").add("message", "m").bytes();
  auto decoded = wire::decode_error_body(future);
  REQUIRE(decoded);
  CHECK(decoded->code == errc::internal);
}

TEST_CASE("bad request envelopes are errors, never crashes") {
  uint64_t id = 99;
  SECTION("empty") {
    auto env = wire::decode_request_envelope("", id);
    REQUIRE_FALSE(env);
    CHECK(describe(env.error()).code == errc::bad_frame);
    CHECK(id == 0);
  }
  SECTION("truncated") {
    auto bytes = wire::encode_request_envelope(42, "status");
    bytes.pop_back();
    auto env = wire::decode_request_envelope(bytes, id);
    REQUIRE_FALSE(env);
    CHECK(describe(env.error()).message.find("truncated") != std::string::npos);
  }
  SECTION("trailing bytes") {
    auto bytes = wire::encode_request_envelope(42, "status") + "x";
    REQUIRE_FALSE(wire::decode_request_envelope(bytes, id));
  }
  SECTION("not a map") {
    REQUIRE_FALSE(wire::decode_request_envelope(encode(std::string{"hi"}), id));
  }
  SECTION("id readable, verb missing: the id is kept for the reply") {
    auto bytes = map_writer{2}.add("v", 1).add("id", 5).bytes();
    auto env = wire::decode_request_envelope(bytes, id);
    REQUIRE_FALSE(env);
    CHECK(id == 5);
  }
  SECTION("other protocol version") {
    auto bytes
      = map_writer{3}.add("v", 9).add("id", 5).add("verb", "ping").bytes();
    auto env = wire::decode_request_envelope(bytes, id);
    REQUIRE_FALSE(env);
    CHECK(describe(env.error()).code == errc::unsupported_version);
  }
  SECTION("a huge declared array in a tiny frame") {
    // array32 header claiming 4 billion elements, then nothing.
    std::string bytes{"\xdd\xff\xff\xff\xff", 5};
    REQUIRE_FALSE(wire::decode_request_envelope(bytes, id));
  }
  SECTION("deep nesting") {
    std::string bytes(100000, '\x91'); // fixarray of 1, nested
    bytes.push_back('\xc0');
    REQUIRE_FALSE(wire::decode_request_envelope(bytes, id));
  }
}

TEST_CASE("random garbage never crashes the envelope decoder") {
  std::mt19937_64 rng{12345};
  std::uniform_int_distribution<int> len{0, 64};
  std::uniform_int_distribution<int> byte{0, 255};
  auto valid = wire::encode_request_envelope(3, "ping");
  for (int i = 0; i < 20000; ++i) {
    std::string bytes;
    if (i % 2 == 0) {
      bytes.resize(static_cast<size_t>(len(rng)));
      for (auto& c : bytes)
        c = static_cast<char>(byte(rng));
    } else {
      // Mutations of a valid envelope reach deeper into the decoder.
      bytes = valid;
      bytes[static_cast<size_t>(byte(rng)) % bytes.size()]
        = static_cast<char>(byte(rng));
    }
    uint64_t id = 0;
    auto env = wire::decode_request_envelope(bytes, id);
    if (env)
      CHECK_FALSE(env->verb.empty());
  }
}
