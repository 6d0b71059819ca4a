// dotenv files for `--env-file` (the format python-dotenv reads, which is
// what SkyPilot uses).

#include <algorithm>

#include "messages/task/overrides.hpp"
#include "messages/task/value_grammar.hpp"

namespace sky::task {

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

class dotenv_reader {
public:
  dotenv_reader(std::string_view text, std::string_view source)
    : text_(text), source_(source) {
    // nop
  }

  result<std::vector<variable_spec>> run() {
    std::vector<variable_spec> out;
    while (pos_ < text_.size()) {
      skip_blanks();
      if (at_line_end()) {
        next_line();
        continue;
      }
      if (peek() == '#') {
        skip_to_line_end();
        continue;
      }
      const int line = line_;
      if (text_.compare(pos_, 6, "export") == 0 && pos_ + 6 < text_.size()
          && is_blank(text_[pos_ + 6])) {
        pos_ += 6;
        skip_blanks();
      }
      size_t eq = pos_;
      while (eq < text_.size() && text_[eq] != '=' && text_[eq] != '\n')
        ++eq;
      std::string_view key = text_.substr(pos_, eq - pos_);
      while (!key.empty() && is_blank(key.back()))
        key.remove_suffix(1);
      if (eq >= text_.size() || text_[eq] != '=')
        return fail(line, "expected NAME=VALUE",
                    "write one NAME=VALUE per line");
      if (!is_env_name(key))
        return fail(line, "'" + std::string{key} + "' is not a valid name",
                    "names start with a letter or '_' and contain only "
                    "letters, digits and '_'");
      pos_ = eq + 1;
      skip_blanks();
      auto value = read_value(line);
      if (!value)
        return value.error();
      auto it = std::find_if(out.begin(), out.end(),
                             [&](const auto& v) { return v.name == key; });
      if (it != out.end())
        it->value = *value;
      else
        out.push_back(variable_spec{std::string{key}, *value});
    }
    return out;
  }

private:
  char peek() const { return text_[pos_]; }

  bool at_line_end() const {
    return pos_ >= text_.size() || text_[pos_] == '\n' || text_[pos_] == '\r';
  }

  void skip_blanks() {
    while (pos_ < text_.size() && is_blank(text_[pos_]))
      ++pos_;
  }

  void next_line() {
    if (pos_ < text_.size() && text_[pos_] == '\r')
      ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '\n') {
      ++pos_;
      ++line_;
    }
  }

  void skip_to_line_end() {
    while (pos_ < text_.size() && text_[pos_] != '\n')
      ++pos_;
    next_line();
  }

  caf::error fail(int line, std::string what, std::string hint) const {
    return make_error(errc::invalid_argument,
                      std::string{source_} + ":" + std::to_string(line) + ": "
                        + what,
                      std::move(hint));
  }

  // After a closing quote only blanks and a comment may follow.
  caf::error finish_quoted_line(int line) {
    skip_blanks();
    if (!at_line_end() && peek() != '#')
      return fail(line, "unexpected text after the closing quote",
                  "put a comment after '#', or quote the whole value");
    skip_to_line_end();
    return {};
  }

  result<std::string> read_value(int line) {
    std::string value;
    if (pos_ < text_.size() && (peek() == '"' || peek() == '\'')) {
      const char quote = peek();
      ++pos_;
      for (;;) {
        if (pos_ >= text_.size())
          return fail(line, std::string{"the value has no closing "} + quote,
                      "close the quote");
        char c = text_[pos_++];
        if (c == quote)
          break;
        if (c == '\n')
          ++line_;
        if (c == '\\' && quote == '"' && pos_ < text_.size()) {
          char e = text_[pos_++];
          switch (e) {
            case 'n':
              value += '\n';
              break;
            case 't':
              value += '\t';
              break;
            case 'r':
              value += '\r';
              break;
            case '"':
            case '\\':
              value += e;
              break;
            default:
              value += '\\';
              value += e;
          }
          continue;
        }
        value += c;
      }
      if (auto err = finish_quoted_line(line))
        return err;
      return value;
    }
    size_t end = pos_;
    while (end < text_.size() && text_[end] != '\n' && text_[end] != '\r') {
      // An unquoted value ends at " #" (a comment), as in python-dotenv.
      if (text_[end] == '#' && end > pos_ && is_blank(text_[end - 1]))
        break;
      ++end;
    }
    std::string_view raw = text_.substr(pos_, end - pos_);
    while (!raw.empty() && is_blank(raw.back()))
      raw.remove_suffix(1);
    pos_ = end;
    skip_to_line_end();
    return std::string{raw};
  }

  std::string_view text_;
  std::string_view source_;
  size_t pos_ = 0;
  int line_ = 1;
};

} // namespace

result<std::vector<variable_spec>> parse_dotenv(std::string_view text,
                                                std::string_view source) {
  return dotenv_reader{text, source}.run();
}

} // namespace sky::task
