// The readiness prober against a real HTTP server on loopback (Python's
// http.server): status codes, POST bodies and headers, refused
// connections, and the deadline of a replica that never answers.

#include <catch2/catch.hpp>

#include <future>
#include <signal.h>

#include "actors/service/http_probe.hpp"
#include "tests/support/process.hpp"

using namespace sky::actors;

namespace {

// /code/N answers N; /slow never answers in time; POST /echo answers 200
// when the body and the X-Token header are the expected ones, 400 if not.
const char* server_script = R"PY(
import http.server, json, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path.startswith('/code/'):
            self.send_response(int(self.path[6:])); self.end_headers(); return
        if self.path == '/slow':
            time.sleep(5)
        self.send_response(200); self.end_headers(); self.wfile.write(b'ok')
    def do_POST(self):
        n = int(self.headers.get('Content-Length', '0'))
        body = json.loads(self.rfile.read(n) or b'null')
        good = body == {'prompt': 'hi'} and self.headers.get('X-Token') == 't0k' \
            and self.headers.get('Content-Type') == 'application/json'
        self.send_response(200 if good else 400); self.end_headers()
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
)PY";

struct server {
  sky::testing::child proc{{"/usr/bin/python3", "-c", server_script}};
  uint16_t port = 0;
  server() {
    auto line = proc.read_line(std::chrono::seconds(10));
    REQUIRE(line);
    port = static_cast<uint16_t>(std::stoi(*line));
  }
};

probe_result probe_once(http_prober& prober, probe_request r) {
  std::promise<probe_result> got;
  auto answer = got.get_future();
  prober.probe(std::move(r), [&](probe_result res) { got.set_value(res); });
  REQUIRE(answer.wait_for(std::chrono::seconds(20))
          == std::future_status::ready);
  return answer.get();
}

probe_request at(uint16_t port, std::string path) {
  probe_request r;
  r.host = "127.0.0.1";
  r.port = port;
  r.path = std::move(path);
  r.timeout = std::chrono::seconds(5);
  return r;
}

} // namespace

TEST_CASE("http probe: the status of the answer, or why there was none") {
  server srv;
  http_prober prober;
  SECTION("GET answers with its status") {
    auto ok = probe_once(prober, at(srv.port, "/"));
    CHECK(ok.http_status == 200);
    CHECK(ok.error.empty());
    CHECK(ok.what == "GET /");
    CHECK(probe_once(prober, at(srv.port, "/code/503")).http_status == 503);
    CHECK(probe_once(prober, at(srv.port, "/code/204")).http_status == 204);
  }
  SECTION("POST sends post_data as JSON with the headers") {
    auto r = at(srv.port, "/echo");
    r.post_data = R"({"prompt": "hi"})";
    r.headers = {{"X-Token", "t0k"}};
    auto res = probe_once(prober, r);
    CHECK(res.what == "POST /echo");
    CHECK(res.http_status == 200);
    r.headers = {{"X-Token", "wrong"}};
    CHECK(probe_once(prober, r).http_status == 400);
  }
  SECTION("a replica that does not answer in time") {
    auto r = at(srv.port, "/slow");
    r.timeout = std::chrono::milliseconds(300);
    auto res = probe_once(prober, r);
    CHECK(res.http_status == 0);
    CHECK(res.error == "timed out after 0.3 s "
                       "(readiness_probe.timeout_seconds)");
    CHECK(res.elapsed < std::chrono::seconds(3));
  }
  SECTION("many probes at once do not wait for each other") {
    auto slow = at(srv.port, "/slow");
    slow.timeout = std::chrono::seconds(3);
    std::promise<probe_result> slow_done;
    prober.probe(slow, [&](probe_result r) { slow_done.set_value(r); });
    auto fast = probe_once(prober, at(srv.port, "/"));
    CHECK(fast.http_status == 200);
    CHECK(fast.elapsed < std::chrono::seconds(2));
    slow_done.get_future().wait();
  }
  srv.proc.signal(SIGKILL);
  srv.proc.wait(std::chrono::seconds(5));
  SECTION("a closed port is refused at once") {
    auto res = probe_once(prober, at(srv.port, "/"));
    CHECK(res.http_status == 0);
    CHECK(res.error.find("refused") != std::string::npos);
  }
}
