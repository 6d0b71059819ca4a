// Confirmation prompts.

#include <catch2/catch.hpp>

#include <sstream>

#include "skyctl/confirm.hpp"

using namespace sky::cli;

namespace {

bool answer(const std::string& input, std::string* prompt = nullptr) {
  std::istringstream in{input};
  std::ostringstream out;
  bool yes = ask_yes_no("Tearing down cluster(s) a, b. Proceed?", in, out);
  if (prompt)
    *prompt = out.str();
  return yes;
}

} // namespace

TEST_CASE("yes is the default, no declines, end of input declines") {
  std::string prompt;
  CHECK(answer("\n", &prompt));
  CHECK(prompt == "Tearing down cluster(s) a, b. Proceed? [Y/n] ");
  CHECK(answer("y\n"));
  CHECK(answer(" YES \n"));
  CHECK_FALSE(answer("n\n"));
  CHECK_FALSE(answer("No\n"));
  CHECK_FALSE(answer(""));
}

TEST_CASE("other answers ask again, three times at most") {
  std::string prompt;
  CHECK(answer("maybe\ny\n", &prompt));
  CHECK(prompt.find("Please answer y or n.") != std::string::npos);
  CHECK_FALSE(answer("a\nb\nc\ny\n"));
}

TEST_CASE("only a terminal without -y is asked") {
  terminal_info t;
  t.stdin_tty = true;
  CHECK(should_confirm(t, false));
  CHECK_FALSE(should_confirm(t, true));
  t.stdin_tty = false;
  CHECK_FALSE(should_confirm(t, false));
  CHECK(join_names({"a", "b", "c"}) == "a, b, c");
}
