#include <catch2/catch.hpp>

#include <random>

#include <zmq.hpp>

#include "messages/msgpack_util.hpp"
#include "messages/wire.hpp"
#include "skyd_fixture.hpp"

using namespace sky;
using namespace sky::testing;

namespace {

// A raw DEALER that sends arbitrary frames and collects raw replies.
class raw_client {
public:
  explicit raw_client(const home_layout& home)
    : socket_(ctx_, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.connect(home_layout::ipc_endpoint(home.control_socket()));
  }

  void send(const std::vector<std::string>& frames) {
    for (size_t i = 0; i < frames.size(); ++i)
      socket_.send(zmq::buffer(frames[i]), i + 1 < frames.size()
                                             ? zmq::send_flags::sndmore
                                             : zmq::send_flags::none);
  }

  // The error codes of replies, until `timeout` passes without one.
  std::vector<std::string> error_codes(size_t expected,
                                       std::chrono::milliseconds timeout) {
    std::vector<std::string> codes;
    while (codes.size() < expected) {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, timeout) == 0)
        break;
      std::vector<zmq::message_t> parts;
      do {
        parts.emplace_back();
        (void) socket_.recv(parts.back());
      } while (parts.back().more());
      REQUIRE(parts.size() == 2);
      auto env = wire::decode_reply_envelope(parts[0].to_string_view());
      REQUIRE(env);
      if (env->status != wire::status::error) {
        codes.push_back("not an error");
        continue;
      }
      auto info = wire::decode_error_body(parts[1].to_string_view());
      REQUIRE(info);
      codes.emplace_back(to_string(info->code));
    }
    return codes;
  }

private:
  zmq::context_t ctx_{1};
  zmq::socket_t socket_;
};

std::string random_bytes(std::mt19937& rng, size_t max) {
  std::uniform_int_distribution<size_t> len{0, max};
  std::uniform_int_distribution<int> byte{0, 255};
  std::string s(len(rng), '\0');
  for (auto& c : s)
    c = static_cast<char>(byte(rng));
  return s;
}

} // namespace

TEST_CASE("1000 garbage frames each get an error and skyd keeps serving") {
  skyd_home home;
  home.write_config("wire:\n  max_message_bytes: 65536\n");
  REQUIRE(home.skyctl({"ping"}).exit_code == 0);
  auto pid = home.daemon_pid();
  raw_client raw{home.layout()};
  std::mt19937 rng{Catch::rngSeed()};
  auto valid_env = [](uint64_t id, std::string verb) {
    return wire::encode_request_envelope(id, verb);
  };
  std::map<std::string, int> expected;
  for (int i = 0; i < 1000; ++i) {
    switch (i % 8) {
      case 0: // random envelope and body
        raw.send({random_bytes(rng, 64), random_bytes(rng, 64)});
        ++expected["bad_frame"];
        break;
      case 1: // one frame only
        raw.send({valid_env(5, "ping")});
        ++expected["bad_frame"];
        break;
      case 2: // too many frames
        raw.send({valid_env(5, "ping"), "\xc0", "x", "y"});
        ++expected["bad_frame"];
        break;
      case 3: // unknown verb
        raw.send({valid_env(9, "pnig"), "\xc0"});
        ++expected["unknown_verb"];
        break;
      case 4: // a known verb with a garbage body
        raw.send({valid_env(10, "events"), random_bytes(rng, 32) + "\xc1"});
        ++expected["bad_frame"];
        break;
      case 5: // the right shape with the wrong types
        raw.send({valid_env(11, "events"),
                  map_writer{1}.add("since", "yesterday").bytes()});
        ++expected["bad_request"];
        break;
      case 6: // a protocol from the future
        raw.send(
          {map_writer{3}.add("v", 99).add("id", 12).add("verb", "ping").bytes(),
           "\xc0"});
        ++expected["unsupported_version"];
        break;
      case 7: // empty frames
        raw.send({"", ""});
        ++expected["bad_frame"];
        break;
    }
  }
  auto codes = raw.error_codes(1000, std::chrono::seconds(10));
  std::map<std::string, int> seen;
  for (const auto& c : codes)
    ++seen[c];
  CHECK(seen == expected);

  // Above the configured limit: an error reply, not a crash.
  raw.send({valid_env(13, "events"), std::string(100000, 'x')});
  CHECK(raw.error_codes(1, std::chrono::seconds(5))
        == std::vector<std::string>{"message_too_large"});
  // Far above it: ZeroMQ drops that connection; skyd still serves others.
  raw.send({valid_env(14, "events"), std::string(1 << 20, 'x')});

  auto ping = home.skyctl({"--no-autostart", "ping"});
  CHECK(ping.exit_code == 0);
  CHECK(home.daemon_pid() == pid);

  // The hint for a misspelt verb names the right one.
  raw_client fresh{home.layout()};
  fresh.send({valid_env(1, "daemon.stauts"), "\xc0"});
  CHECK(fresh.error_codes(1, std::chrono::seconds(5))
        == std::vector<std::string>{"unknown_verb"});
}
