// The client connection against a fake skyd: several streams share one
// connection and each reader gets its own frames, in order.

#include <catch2/catch.hpp>

#include "fake_skyd.hpp"
#include "skyctl/client.hpp"

using namespace sky;
using sky::testing::fake_skyd;

TEST_CASE("streams sharing a connection each get their own frames in order") {
  fake_skyd skyd;
  skyd.on("launch", [](const fake_skyd::request& req) {
    if (req.body == "\"fails\"")
      return std::vector<fake_skyd::reply>{
        fake_skyd::more("\"f1\""),
        fake_skyd::error(errc::no_capacity, "no room")};
    return std::vector<fake_skyd::reply>{
      fake_skyd::more("\"1\""), fake_skyd::heartbeat(),
      fake_skyd::more("\"2\""), fake_skyd::ok("\"end\"")};
  });
  auto conn = client::connection::open(
    home_layout::ipc_endpoint(skyd.layout().control_socket()));
  REQUIRE(conn);
  auto first = conn->open_stream("launch", "\"a\"", 16);
  auto failing = conn->open_stream("launch", "\"fails\"", 16);
  auto last = conn->open_stream("launch", "\"b\"", 16);
  REQUIRE(first);
  REQUIRE(failing);
  REQUIRE(last);

  // Reading the last stream first parks the others' frames.
  std::vector<std::string> bodies;
  while (true) {
    auto f = conn->next(*last, std::chrono::seconds(5));
    REQUIRE(f);
    bodies.push_back(f->body);
    if (f->final())
      break;
  }
  CHECK(bodies == std::vector<std::string>{"\"1\"", "\"2\"", "\"end\""});
  CHECK_FALSE(conn->is_open(*last));

  bodies.clear();
  while (true) {
    auto f = conn->next(*first, std::chrono::seconds(5));
    REQUIRE(f);
    bodies.push_back(f->body);
    if (f->final())
      break;
  }
  CHECK(bodies == std::vector<std::string>{"\"1\"", "\"2\"", "\"end\""});

  auto f1 = conn->next(*failing, std::chrono::seconds(5));
  REQUIRE(f1);
  CHECK(f1->body == "\"f1\"");
  auto err = conn->next(*failing, std::chrono::seconds(5));
  REQUIRE_FALSE(err);
  CHECK(describe(err.error()).code == errc::no_capacity);
  CHECK(describe(err.error()).message == "no room");
  CHECK_FALSE(conn->is_open(*failing));
}

TEST_CASE("assigning a new connection over one with requests in flight to a "
          "gone skyd returns at once") {
  // The old connection's socket holds an unsent request (no peer): closing
  // its context before the socket would block forever.
  auto dir = testing::temp_dir{"sky-client"};
  auto gone = "ipc://" + (dir.path() / "gone.sock").string();
  auto conn = client::connection::open(gone);
  REQUIRE(conn);
  REQUIRE(conn->open_stream("status", "{}", 1));
  fake_skyd skyd;
  auto start = std::chrono::steady_clock::now();
  *conn = std::move(*client::connection::open(
    home_layout::ipc_endpoint(skyd.layout().control_socket())));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}
