#pragma once

// Runs skyctl's command line in this process (skyctl/app.hpp) against a
// fake_skyd, capturing what it prints on stdout and stderr.

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "fake_skyd.hpp"
#include "messages/cluster_protocol.hpp"
#include "skyctl/app.hpp"

namespace sky::testing {

struct cli_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Swaps std::cout and std::cerr for string buffers while alive.
class capture_output {
public:
  capture_output()
    : old_out_(std::cout.rdbuf(out_.rdbuf())),
      old_err_(std::cerr.rdbuf(err_.rdbuf())) {}
  ~capture_output() {
    std::cout.rdbuf(old_out_);
    std::cerr.rdbuf(old_err_);
  }
  std::string out() const { return out_.str(); }
  std::string err() const { return err_.str(); }

private:
  std::ostringstream out_;
  std::ostringstream err_;
  std::streambuf* old_out_;
  std::streambuf* old_err_;
};

/// A context as the tests' terminal: nothing is a TTY, no UTF-8, and
/// prompts read `answers`.
struct cli_setup {
  cli::terminal_info term{};
  std::string answers;
};

/// A terminal whose user answers prompts with `answers`.
inline cli_setup interactive(std::string answers) {
  cli_setup s;
  s.term.stdin_tty = true;
  s.answers = std::move(answers);
  return s;
}

/// The only request of `verb` skyd got, decoded.
template <class T>
T request_of(const fake_skyd& skyd, const std::string& verb) {
  auto body = skyd.body_of(verb);
  REQUIRE(body);
  auto decoded = protocol::decode_as<T>(*body, verb);
  REQUIRE(decoded);
  return *decoded;
}

inline cli_result run_cli(const fake_skyd& skyd, std::vector<std::string> args,
                          const cli_setup& setup = {}) {
  std::vector<std::string> argv{"skyctl", "--home", skyd.home(),
                                "--no-autostart"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<const char*> raw;
  for (const auto& a : argv)
    raw.push_back(a.c_str());
  std::istringstream answers{setup.answers};
  cli::cli_context ctx;
  ctx.term = setup.term;
  ctx.prompt_in = &answers;
  cli_result r;
  {
    capture_output capture;
    r.exit_code = cli::run(static_cast<int>(raw.size()), raw.data(), ctx);
    r.out = capture.out();
    r.err = capture.err();
  }
  return r;
}

} // namespace sky::testing
