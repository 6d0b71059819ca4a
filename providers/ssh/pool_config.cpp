// Pool file YAML -> pool_file. Located reading (file:line:col, duplicate
// keys, "did you mean" for keys) comes from the task parser's YAML reader,
// so pool, scenario and task files report mistakes the same way.

#include "providers/ssh/pool_config.hpp"

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "messages/task/yaml_reader.hpp"
#include "providers/common/fs_util.hpp"

namespace sky::providers::ssh {

namespace {

using task::detail::fail;
using task::detail::located;
using task::detail::map_view;
using task::detail::parse_context;

/// A pool file lists machines someone owns: a few KiB. Anything near this
/// size is not a pool file.
constexpr size_t max_pool_file_bytes = 4 << 20;

const std::vector<task::detail::unsupported_field> password_refused{
  {"password",
   "use key authentication: put the public key in the host's "
   "~/.ssh/authorized_keys and set identity_file",
   "is not supported: skyd never stores or sends passwords"},
};

std::string expand_home(const std::string& path, const std::string& home) {
  if (path == "~")
    return home;
  if (path.rfind("~/", 0) == 0)
    return home + path.substr(1);
  return path;
}

/// Settings a host inherits from its pool.
struct defaults {
  std::string user;
  std::string identity_file;
  uint16_t port = 22;
};

class parser {
public:
  parser(parse_context& ctx, std::string home)
    : ctx_(ctx), home_(std::move(home)) {}

  caf::error top(const located& doc, pool_file& out) {
    auto pools = map_view::open(ctx_, doc);
    if (!pools)
      return pools.error();
    for (const auto& e : pools->entries()) {
      auto at = pools->locate(e);
      auto key_at = at;
      if (e.key_node.Mark().line >= 0)
        key_at.mark = e.key_node.Mark();
      if (!local_detail::is_safe_name(e.key))
        return fail(ctx_, key_at,
                    "is not a valid pool name (it is used in "
                    "'infra: ssh/<pool>')",
                    "use letters, digits, '-', '_' and '.', not starting "
                    "with '.'");
      node_pool pool;
      pool.name = e.key;
      if (auto err = read_pool(at, pool))
        return err;
      out.pools.push_back(std::move(pool));
    }
    return {};
  }

private:
  caf::error read_pool(const located& at, node_pool& pool) {
    if (at.is_null())
      return fail(ctx_, at, "has no hosts",
                  "list the pool's machines under 'hosts:', e.g. "
                  "hosts: [10.0.0.1, 10.0.0.2]");
    auto m = map_view::open(ctx_, at);
    if (!m)
      return m.error();
    if (auto err = m->check_keys(
          ctx_, {"hosts", "user", "identity_file", "port"}, password_refused))
      return err;
    defaults d;
    if (auto err = read_settings(*m, d))
      return err;
    auto hosts_at = m->get("hosts");
    if (!hosts_at)
      return fail(ctx_, at, "has no hosts",
                  "list the pool's machines under 'hosts:', e.g. "
                  "hosts: [10.0.0.1, 10.0.0.2]");
    auto list = task::detail::read_list(ctx_, *hosts_at);
    if (!list)
      return list.error();
    if (list->empty())
      return fail(ctx_, *hosts_at, "is an empty list",
                  "list at least one machine, or remove the pool");
    std::set<std::string> seen;
    for (const auto& h : *list) {
      auto host = read_host(h, d);
      if (!host)
        return host.error();
      if (!seen.insert(host->key()).second)
        return fail(ctx_, h, "lists " + host->key() + " a second time",
                    "keep one entry per machine");
      pool.hosts.push_back(std::move(*host));
    }
    return {};
  }

  /// user, identity_file and port of a pool or a host map.
  caf::error read_settings(const map_view& m, defaults& d) {
    if (auto v = m.get("user")) {
      auto s = task::detail::read_string(ctx_, *v);
      if (!s)
        return s.error();
      if (s->find_first_of(" \t\n@:/") != std::string::npos)
        return fail(ctx_, *v, "'" + *s + "' is not a user name",
                    "write only the login name, e.g. user: ubuntu");
      d.user = *s;
    }
    if (auto v = m.get("identity_file")) {
      auto s = task::detail::read_string(ctx_, *v);
      if (!s)
        return s.error();
      d.identity_file = expand_home(*s, home_);
    }
    if (auto v = m.get("port")) {
      auto p = task::detail::read_int(ctx_, *v, 1, 65535);
      if (!p)
        return p.error();
      d.port = static_cast<uint16_t>(*p);
    }
    return {};
  }

  result<pool_host> read_host(const located& at, const defaults& pool) {
    defaults d = pool;
    std::string ip;
    if (at.node.IsMap()) {
      auto m = map_view::open(ctx_, at);
      if (!m)
        return m.error();
      if (auto err = m->check_keys(
            ctx_, {"ip", "user", "identity_file", "port"}, password_refused))
        return err;
      auto ip_at = m->get("ip");
      if (!ip_at)
        return fail(ctx_, at, "has no ip",
                    "add 'ip: <address or host name>' to this host");
      auto s = task::detail::read_string(ctx_, *ip_at);
      if (!s)
        return s.error();
      ip = *s;
      if (auto err = read_settings(*m, d))
        return err;
      return make_host(*ip_at, ip, d);
    }
    auto s = task::detail::read_string(ctx_, at);
    if (!s)
      return s.error();
    return make_host(at, *s, d);
  }

  result<pool_host> make_host(const located& at, const std::string& ip,
                              const defaults& d) {
    // user@host and host:port are how ssh is typed; here they have fields.
    if (ip.empty() || ip.find_first_of(" \t\n@/") != std::string::npos
        || (ip.find(':') != std::string::npos && ip.find(':') == ip.rfind(':')))
      return fail(ctx_, at, "'" + ip + "' is not an IP address or host name",
                  "write the address alone; put the user under 'user:' and "
                  "the port under 'port:'");
    pool_host h;
    h.ip = ip;
    h.port = d.port;
    h.user = d.user;
    h.identity_file = d.identity_file;
    return h;
  }

  parse_context& ctx_;
  std::string home_;
};

} // namespace

const node_pool* pool_file::find(const std::string& name) const {
  for (const auto& p : pools)
    if (p.name == name)
      return &p;
  return nullptr;
}

result<pool_file> parse_pool_file(const std::string& text,
                                  const std::string& file,
                                  const std::string& home) {
  parse_context ctx;
  ctx.file = file.empty() ? "<ssh_node_pools.yaml>" : file;
  ctx.budget = 100'000 + 4 * static_cast<long long>(text.size());
  std::string home_dir = home;
  if (home_dir.empty())
    if (const char* h = std::getenv("HOME"))
      home_dir = h;
  if (text.size() > max_pool_file_bytes)
    return fail(ctx, YAML::Mark{}, "",
                "the pool file is too large (" + std::to_string(text.size())
                  + " bytes)",
                "list machines only; keep it under 4 MiB");
  pool_file out;
  auto loaded = task::detail::load_single_document(
    ctx, text, "the pool file is one document: remove the '---'");
  if (!loaded)
    return loaded.error();
  auto doc = std::move(*loaded);
  if (!doc.IsDefined() || doc.IsNull())
    return out;
  try {
    parser p{ctx, home_dir};
    if (auto err = p.top(located{doc, "", doc.Mark()}, out))
      return err;
  } catch (const std::exception& e) {
    return make_error(errc::internal,
                      ctx.file
                        + ": internal error while reading the pool "
                          "file: "
                        + e.what(),
                      "please report this with the file that caused it");
  }
  return out;
}

result<pool_file> load_pool_file(const std::filesystem::path& path) {
  auto text = local_detail::read_file(path);
  if (!text)
    return text.error();
  if (!*text)
    return pool_file{};
  return parse_pool_file(**text, path.string());
}

} // namespace sky::providers::ssh
