#include "messages/task/yaml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_set>

#include "messages/suggest.hpp"
#include "messages/task/value_grammar.hpp"
#include "messages/task/yaml_precheck.hpp"

namespace sky::task::detail {

namespace {

YAML::Mark usable(const YAML::Mark& mark, const YAML::Mark& fallback) {
  return mark.is_null() || mark.line < 0 ? fallback : mark;
}

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (auto w : words) {
    if (!out.empty())
      out += ", ";
    out += w;
  }
  return out;
}

} // namespace

caf::error parse_context::spend(const YAML::Mark& where, long long n) {
  budget -= n;
  if (budget >= 0)
    return {};
  return fail(*this, where, "",
              "the document is too complex to read (too many nodes, often "
              "from aliases that repeat a large map)",
              "write the values out instead of repeating big anchors");
}

caf::error fail(const parse_context& ctx, const YAML::Mark& mark,
                std::string_view path, std::string_view what,
                std::string hint) {
  const int line = mark.line >= 0 ? mark.line + 1 : 1;
  const int column = mark.column >= 0 ? mark.column + 1 : 1;
  std::string msg = ctx.file + ":" + std::to_string(line) + ":"
                    + std::to_string(column) + ": ";
  if (!path.empty()) {
    msg += path;
    msg += ": ";
  }
  msg += what;
  return make_error(errc::invalid_argument, std::move(msg), std::move(hint));
}

caf::error fail(const parse_context& ctx, const located& at,
                std::string_view what, std::string hint) {
  return fail(ctx, at.mark, at.path, what, std::move(hint));
}

caf::error relocate(const parse_context& ctx, const located& at,
                    const caf::error& err) {
  auto info = describe(err);
  return fail(ctx, at, info.message, info.hint);
}

std::string describe_node(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull())
    return "nothing (null)";
  if (node.IsSequence())
    return "a list";
  if (node.IsMap())
    return "a map";
  std::string text = node.Scalar();
  if (text.size() > 40)
    text = text.substr(0, 37) + "...";
  return "'" + text + "'";
}

std::string child_path(std::string_view parent, std::string_view key) {
  if (parent.empty())
    return std::string{key};
  std::string out{parent};
  out += '.';
  out += key;
  return out;
}

std::string index_path(std::string_view parent, size_t index) {
  return std::string{parent} + "[" + std::to_string(index) + "]";
}

result<std::string> read_string(const parse_context& ctx, const located& at) {
  if (at.is_null())
    return fail(ctx, at, "is empty", "give it a value or remove the field");
  if (!at.node.IsScalar())
    return fail(ctx, at, "expected text, got " + describe_node(at.node),
                "write a single value on the same line, e.g. field: value");
  return at.node.Scalar();
}

result<bool> read_bool(const parse_context& ctx, const located& at) {
  if (at.node.IsScalar())
    if (auto b = parse_bool(at.node.Scalar()))
      return *b;
  return fail(ctx, at, "expected true or false, got " + describe_node(at.node),
              "write true or false");
}

result<long long> read_int(const parse_context& ctx, const located& at,
                           long long lo, long long hi) {
  if (!at.node.IsScalar())
    return fail(
      ctx, at, "expected a whole number, got " + describe_node(at.node),
      "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return located_value(ctx, at, parse_integer(at.node.Scalar(), lo, hi));
}

result<double> read_number(const parse_context& ctx, const located& at,
                           bool min_exclusive, bool non_negative) {
  if (!at.node.IsScalar())
    return fail(ctx, at, "expected a number, got " + describe_node(at.node),
                "write a decimal number such as 4 or 0.5");
  auto v = located_value(ctx, at, parse_number(at.node.Scalar()));
  if (!v)
    return v;
  if (min_exclusive && !(*v > 0))
    return fail(ctx, at, "must be greater than 0",
                "write a positive number such as 1.5");
  if (non_negative && *v < 0)
    return fail(ctx, at, "must not be negative",
                "write 0 or a positive number");
  return v;
}

result<std::string> read_choice(const parse_context& ctx, const located& at,
                                const std::vector<std::string>& choices) {
  auto text = read_string(ctx, at);
  if (!text)
    return text;
  std::string all;
  for (const auto& c : choices) {
    if (c.size() == text->size()
        && std::equal(c.begin(), c.end(), text->begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a))
                    == std::tolower(static_cast<unsigned char>(b));
           }))
      return c;
    all += all.empty() ? "" : ", ";
    all += c;
  }
  return fail(ctx, at,
              describe_node(at.node) + " is not a valid value"
                + did_you_mean(*text, choices),
              "use one of: " + all);
}

result<std::vector<located>> read_list(parse_context& ctx, const located& at) {
  if (!at.node.IsSequence())
    return fail(ctx, at, "expected a list, got " + describe_node(at.node),
                "write a YAML list: [a, b] or one '- item' per line");
  std::vector<located> out;
  size_t i = 0;
  for (auto it = at.node.begin(); it != at.node.end(); ++it, ++i) {
    YAML::Node element = *it;
    if (auto err = ctx.spend(at.mark))
      return err;
    out.push_back(located{element, index_path(at.path, i),
                          usable(element.Mark(), at.mark)});
  }
  return out;
}

result<map_view> map_view::open(parse_context& ctx, const located& at) {
  if (!at.node.IsMap())
    return fail(ctx, at, "expected a map, got " + describe_node(at.node),
                "write one 'key: value' per line, indented under the field");
  map_view view;
  view.at_ = at;
  std::unordered_set<std::string> seen;
  std::vector<located> merges;
  for (auto it = at.node.begin(); it != at.node.end(); ++it) {
    YAML::Node key = it->first;
    YAML::Node value = it->second;
    const auto key_mark = usable(key.Mark(), at.mark);
    if (auto err = ctx.spend(key_mark))
      return err;
    if (!key.IsScalar())
      return fail(ctx, key_mark, at.path,
                  "has a key that is " + describe_node(key)
                    + " instead of a name",
                  "keys must be plain names, e.g. cpus: 4");
    const std::string& name = key.Scalar();
    if (name == "<<" && key.Tag() != "!") {
      merges.push_back(located{value, at.path, key_mark});
      continue;
    }
    if (!seen.insert(name).second)
      return fail(ctx, key_mark, child_path(at.path, name),
                  "appears twice in the same map",
                  "keep one of them; YAML would silently use only one");
    view.entries_.push_back(entry{name, key, value});
  }
  // Merge keys: `<<: *base` or `<<: [*a, *b]`; earlier maps win, explicit
  // keys win over all of them. Nested merges inside the merged maps are not
  // followed, which keeps self-referencing anchors finite.
  for (const auto& m : merges) {
    std::vector<YAML::Node> sources;
    if (m.node.IsMap()) {
      sources.push_back(m.node);
    } else if (m.node.IsSequence()) {
      for (auto it = m.node.begin(); it != m.node.end(); ++it)
        sources.push_back(*it);
    }
    if (sources.empty())
      return fail(ctx, m.mark, m.path,
                  "has a merge key '<<' whose value is not a map",
                  "write <<: *anchor where the anchor names a map");
    for (const auto& src : sources) {
      if (!src.IsMap())
        return fail(ctx, m.mark, m.path,
                    "has a merge key '<<' whose value is not a map",
                    "write <<: *anchor where the anchor names a map");
      for (auto it = src.begin(); it != src.end(); ++it) {
        YAML::Node key = it->first;
        if (auto err = ctx.spend(m.mark))
          return err;
        if (!key.IsScalar() || key.Scalar() == "<<")
          continue;
        if (seen.insert(key.Scalar()).second)
          view.entries_.push_back(entry{key.Scalar(), key, it->second});
      }
    }
  }
  return view;
}

located map_view::locate(const entry& e) const {
  const auto key_mark = usable(e.key_node.Mark(), at_.mark);
  const bool value_null = !e.value.IsDefined() || e.value.IsNull();
  // yaml-cpp marks a null value at the next token, often on the next line;
  // the key is where the user looks.
  const auto mark = value_null ? key_mark : usable(e.value.Mark(), key_mark);
  return located{e.value, child_path(at_.path, e.key), mark};
}

std::optional<located> map_view::get_raw(std::string_view key) const {
  for (const auto& e : entries_)
    if (e.key == key)
      return locate(e);
  return std::nullopt;
}

std::optional<located> map_view::get(std::string_view key) const {
  auto v = get_raw(key);
  if (v && v->is_null())
    return std::nullopt;
  return v;
}

bool map_view::has(std::string_view key) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const entry& e) { return e.key == key; });
}

caf::error
map_view::check_keys(const parse_context& ctx,
                     const std::vector<std::string_view>& known,
                     const std::vector<unsupported_field>& unsupported) const {
  std::vector<std::string> candidates(known.begin(), known.end());
  for (const auto& u : unsupported)
    candidates.emplace_back(u.key);
  for (const auto& e : entries_) {
    if (std::find(known.begin(), known.end(), e.key) != known.end())
      continue;
    const auto key_mark = usable(e.key_node.Mark(), at_.mark);
    const auto path = child_path(at_.path, e.key);
    auto u = std::find_if(unsupported.begin(), unsupported.end(),
                          [&](const auto& f) { return f.key == e.key; });
    if (u != unsupported.end())
      return fail(ctx, key_mark, path,
                  u->what.empty()
                    ? "is a SkyPilot field that skyd does not support yet"
                    : u->what,
                  std::string{u->hint});
    if (!e.key.empty() && e.key.front() == '_')
      return fail(ctx, key_mark, path,
                  "is internal to SkyPilot and not accepted in a task YAML",
                  "remove it");
    const std::string where
      = at_.path.empty() ? "at the top level" : "in " + at_.path;
    return fail(ctx, key_mark, path,
                "unknown field " + where + did_you_mean(e.key, candidates),
                "valid fields here: " + join(known));
  }
  return {};
}

result<YAML::Node> load_single_document(const parse_context& ctx,
                                        const std::string& text,
                                        std::string one_document_hint) {
  try {
    if (auto stop = precheck_yaml(text))
      return fail(ctx, stop->mark, "", stop->what, std::move(stop->hint));
    auto docs = YAML::LoadAll(text);
    if (docs.size() > 1)
      return fail(ctx, docs[1].Mark(), "", "holds more than one YAML document",
                  std::move(one_document_hint));
    return docs.empty() ? YAML::Node{} : docs[0];
  } catch (const YAML::ParserException& e) {
    return fail(ctx, e.mark, "", "invalid YAML: " + e.msg,
                "check the indentation and quoting on that line");
  } catch (const std::exception& e) {
    return fail(ctx, YAML::Mark{}, "",
                std::string{"could not read the YAML: "} + e.what(),
                "check that the file is a YAML text file");
  }
}

} // namespace sky::task::detail
