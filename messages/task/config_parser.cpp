// Free-form parts of a task YAML: `config:` (flattened to dotted keys) and
// map-valued `readiness_probe.post_data` (kept as JSON text). Both walk
// arbitrary YAML, so both bound depth and charge the work budget.

#include <cstdio>

#include "messages/task/parse_detail.hpp"

namespace sky::task::detail {

namespace {

constexpr int max_depth = 32;

bool is_json_number(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-')
    ++i;
  if (i < s.size() && s[i] == '0')
    ++i;
  else if (!digits())
    return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits())
      return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-'))
      ++i;
    if (!digits())
      return false;
  }
  return i == s.size();
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

caf::error too_deep(const parse_context& ctx, const located& at) {
  return fail(ctx, at,
              "is nested more than " + std::to_string(max_depth)
                + " levels deep",
              "flatten the structure (or check for an alias that refers "
              "to itself)");
}

caf::error append_json(parse_context& ctx, const located& at, int depth,
                       std::string& out) {
  if (depth > max_depth)
    return too_deep(ctx, at);
  if (auto err = ctx.spend(at.mark))
    return err;
  if (at.is_null()) {
    out += "null";
    return {};
  }
  if (at.node.IsScalar()) {
    const auto& text = at.node.Scalar();
    const bool plain = at.node.Tag() != "!";
    if (plain
        && (text == "true" || text == "false" || text == "null"
            || is_json_number(text)))
      out += text;
    else
      append_json_string(out, text);
    return {};
  }
  if (at.node.IsSequence()) {
    auto items = read_list(ctx, at);
    if (!items)
      return items.error();
    out += '[';
    for (size_t i = 0; i < items->size(); ++i) {
      if (i > 0)
        out += ',';
      if (auto err = append_json(ctx, (*items)[i], depth + 1, out))
        return err;
    }
    out += ']';
    return {};
  }
  auto m = map_view::open(ctx, at);
  if (!m)
    return m.error();
  out += '{';
  bool first = true;
  for (const auto& e : m->entries()) {
    if (!first)
      out += ',';
    first = false;
    append_json_string(out, e.key);
    out += ':';
    if (auto err = append_json(ctx, m->locate(e), depth + 1, out))
      return err;
  }
  out += '}';
  return {};
}

caf::error flatten(parse_context& ctx, const located& at,
                   const std::string& prefix, int depth,
                   std::map<std::string, std::string>& out) {
  if (depth > max_depth)
    return too_deep(ctx, at);
  if (auto err = ctx.spend(at.mark))
    return err;
  if (at.is_null()) {
    out[prefix] = "null";
  } else if (at.node.IsScalar()) {
    out[prefix] = at.node.Scalar();
  } else if (at.node.IsSequence()) {
    auto items = read_list(ctx, at);
    if (!items)
      return items.error();
    if (items->empty())
      out[prefix] = "[]";
    for (size_t i = 0; i < items->size(); ++i)
      if (auto err = flatten(ctx, (*items)[i], prefix + "." + std::to_string(i),
                             depth + 1, out))
        return err;
  } else {
    auto m = map_view::open(ctx, at);
    if (!m)
      return m.error();
    if (m->entries().empty())
      out[prefix] = "{}";
    for (const auto& e : m->entries()) {
      if (e.key.empty())
        return fail(ctx, m->locate(e), "has an empty key",
                    "give every key a name");
      if (auto err
          = flatten(ctx, m->locate(e), prefix + "." + e.key, depth + 1, out))
        return err;
    }
  }
  return {};
}

} // namespace

caf::error parse_config(parse_context& ctx, const located& at,
                        std::map<std::string, std::string>& out) {
  auto m = map_view::open(ctx, at);
  if (!m)
    return m.error();
  for (const auto& e : m->entries()) {
    if (e.key.empty())
      return fail(ctx, m->locate(e), "has an empty key",
                  "give every key a name");
    if (auto err = flatten(ctx, m->locate(e), e.key, 1, out))
      return err;
  }
  return {};
}

result<std::string> to_json_text(parse_context& ctx, const located& at) {
  std::string out;
  if (auto err = append_json(ctx, at, 0, out))
    return err;
  return out;
}

} // namespace sky::task::detail
