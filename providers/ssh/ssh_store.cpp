#include "providers/ssh/ssh_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "providers/common/fs_util.hpp"

namespace sky::providers::ssh {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json host_to_json(const pool_host& h) {
  return json{{"ip", h.ip},
              {"port", h.port},
              {"user", h.user},
              {"identity_file", h.identity_file}};
}

pool_host host_from_json(const json& j) {
  pool_host h;
  h.ip = j.at("ip").get<std::string>();
  h.port = j.value("port", uint16_t{22});
  h.user = j.value("user", "");
  h.identity_file = j.value("identity_file", "");
  return h;
}

json to_json(const stored_cluster& c) {
  json nodes = json::array();
  for (const auto& n : c.nodes)
    nodes.push_back(
      {{"rank", n.rank}, {"host", host_to_json(n.host)}, {"home", n.home}});
  return json{
    {"cluster", c.cluster},
    {"pool", c.pool},
    {"idempotency_key", c.idempotency_key},
    {"state", std::string{to_string(c.state)}},
    {"per_node",
     {{"cpus", c.per_node.cpus},
      {"memory_gib", c.per_node.memory_gib},
      {"gpus", c.per_node.gpus}}},
    {"instance_type", c.instance_type},
    {"labels", c.labels},
    {"nodes", nodes},
    {"created_at_ms", c.created_at_ms},
    {"updated_at_ms", c.updated_at_ms},
  };
}

stored_cluster from_json(const json& j) {
  stored_cluster c;
  c.cluster = j.at("cluster").get<std::string>();
  c.pool = j.at("pool").get<std::string>();
  c.idempotency_key = j.value("idempotency_key", "");
  c.state = j.value("state", "pending") == "running" ? instance_state::running
                                                     : instance_state::pending;
  const auto& r = j.at("per_node");
  c.per_node.cpus = r.value("cpus", 0.0);
  c.per_node.memory_gib = r.value("memory_gib", 0.0);
  c.per_node.gpus = r.value("gpus", std::map<std::string, double>{});
  c.instance_type = j.value("instance_type", "");
  c.labels = j.value("labels", std::map<std::string, std::string>{});
  for (const auto& n : j.at("nodes"))
    c.nodes.push_back(stored_node{n.at("rank").get<uint32_t>(),
                                  host_from_json(n.at("host")),
                                  n.at("home").get<std::string>()});
  c.created_at_ms = j.value("created_at_ms", int64_t{0});
  c.updated_at_ms = j.value("updated_at_ms", int64_t{0});
  return c;
}

caf::error bad_record(const fs::path& p, const std::string& why) {
  return make_error(errc::storage_error,
                    "ssh: the cluster record " + p.string()
                      + " is unreadable: " + why,
                    "fix or remove the file; while it is unreadable skyd "
                    "cannot tell which pool hosts it holds");
}

} // namespace

cluster_record to_record(const stored_cluster& c) {
  cluster_record r;
  r.provider = "ssh";
  r.cluster = c.cluster;
  r.region = c.pool;
  r.instance_type = c.instance_type;
  r.per_node = c.per_node;
  for (const auto& n : c.nodes) {
    instance_info i;
    i.id = "ssh:" + c.pool + ":" + c.cluster + ":" + std::to_string(n.rank);
    i.rank = n.rank;
    i.state = c.state;
    i.internal_ip = n.host.ip;
    i.external_ip = n.host.ip;
    i.idempotency_key = c.idempotency_key;
    r.instances.push_back(std::move(i));
  }
  return r;
}

ssh_store::ssh_store(fs::path root) : root_(std::move(root)) {}

result<local_detail::file_lock> ssh_store::lock() const {
  std::error_code ec;
  fs::create_directories(clusters_dir(), ec);
  auto path = clusters_dir() / ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return make_error(
      errc::storage_error,
      local_detail::errno_text("ssh: cannot open " + path.string(), errno),
      "check permissions of SKYD_HOME");
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR)
      continue;
    int err = errno;
    ::close(fd);
    return make_error(
      errc::storage_error,
      local_detail::errno_text("ssh: cannot lock " + path.string(), err));
  }
  return local_detail::file_lock{fd};
}

result<std::optional<stored_cluster>>
ssh_store::load(const std::string& cluster) const {
  auto path = clusters_dir() / (cluster + ".json");
  auto text = local_detail::read_file(path);
  if (!text)
    return text.error();
  if (!*text)
    return std::optional<stored_cluster>{};
  auto j = json::parse(**text, nullptr, false);
  if (j.is_discarded())
    return bad_record(path, "not JSON");
  try {
    return std::optional<stored_cluster>{from_json(j)};
  } catch (const json::exception& e) {
    return bad_record(path, e.what());
  }
}

result<std::vector<stored_cluster>> ssh_store::load_all() const {
  std::vector<stored_cluster> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(clusters_dir(), ec)) {
    if (e.path().extension() != ".json")
      continue;
    auto c = load(e.path().stem().string());
    if (!c)
      return c.error();
    if (*c)
      out.push_back(std::move(**c));
  }
  return out;
}

result<void> ssh_store::save(const stored_cluster& c) const {
  std::error_code ec;
  fs::create_directories(clusters_dir(), ec);
  return local_detail::write_file_atomic(clusters_dir() / (c.cluster + ".json"),
                                         to_json(c).dump(2) + "\n", 0600);
}

result<void> ssh_store::remove(const std::string& cluster) const {
  std::error_code ec;
  fs::remove(clusters_dir() / (cluster + ".json"), ec);
  if (ec)
    return make_error(errc::storage_error, "ssh: cannot remove the record of "
                                             + cluster + ": " + ec.message());
  return {};
}

result<std::vector<pending_cleanup>> ssh_store::load_cleanups() const {
  std::vector<pending_cleanup> out;
  auto path = root_ / "cleanup.json";
  auto text = local_detail::read_file(path);
  if (!text)
    return text.error();
  if (!*text)
    return out;
  auto j = json::parse(**text, nullptr, false);
  try {
    for (const auto& e : j)
      out.push_back(
        {host_from_json(e.at("host")), e.at("home").get<std::string>()});
  } catch (const json::exception& e) {
    return bad_record(path, e.what());
  }
  return out;
}

result<void>
ssh_store::save_cleanups(const std::vector<pending_cleanup>& all) const {
  json j = json::array();
  for (const auto& c : all)
    j.push_back({{"host", host_to_json(c.host)}, {"home", c.home}});
  std::error_code ec;
  fs::create_directories(root_, ec);
  return local_detail::write_file_atomic(root_ / "cleanup.json",
                                         j.dump(2) + "\n", 0600);
}

} // namespace sky::providers::ssh
