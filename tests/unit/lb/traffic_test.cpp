#include <catch2/catch.hpp>

#include "skyd/lb/traffic.hpp"

using namespace sky::lb;

TEST_CASE("requests are counted per second and drained") {
  rate_counter c;
  c.add(100);
  c.add(100);
  c.add(102);
  c.add(101); // clock stepped back: counted in the newest second
  auto got = c.drain();
  CHECK(got == std::vector<std::pair<int64_t, uint64_t>>{{100, 2}, {102, 2}});
  CHECK(c.drain().empty());
}

TEST_CASE("an undrained counter keeps only its newest seconds") {
  rate_counter c{3};
  for (int64_t s = 0; s < 10; ++s)
    c.add(s);
  CHECK(c.seconds_held() == 3);
  CHECK(c.drain().front().first == 7);
}

TEST_CASE("hop-by-hop headers are dropped, others kept") {
  hop_by_hop h;
  for (const char* name :
       {"Connection", "keep-alive", "TE", "Trailer", "Transfer-Encoding",
        "Upgrade", "Proxy-Connection", "Proxy-Authorization"})
    CHECK(h.drop(name));
  for (const char* name : {"Content-Length", "Content-Type", "Host",
                           "Authorization", "X-Custom", "Trailers-X"})
    CHECK_FALSE(h.drop(name));
}

TEST_CASE("headers the Connection header names are dropped") {
  hop_by_hop h;
  h.add_connection_tokens("keep-alive, X-Session-Token ,,x-trace");
  h.add_connection_tokens("close");
  CHECK(h.drop("x-session-token"));
  CHECK(h.drop("X-TRACE"));
  CHECK(h.drop("close"));
  CHECK_FALSE(h.drop("X-Session"));
  CHECK(h.names("Close"));
  CHECK_FALSE(h.names("upgrade"));
}

TEST_CASE("X-Forwarded-For appends this hop's client") {
  CHECK(forwarded_for("", "10.0.0.1") == "10.0.0.1");
  CHECK(forwarded_for(" 1.2.3.4 ", "10.0.0.1") == "1.2.3.4, 10.0.0.1");
  CHECK(forwarded_for(forwarded_for("a", "b"), "c") == "a, b, c");
}
