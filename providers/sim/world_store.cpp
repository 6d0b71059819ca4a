#include "providers/sim/world_store.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace sky::providers::sim {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int format_version = 1;

caf::error io_error(const std::string& what, int err) {
  return make_error(errc::fatal, "sim: " + what + ": " + std::strerror(err),
                    "check permissions and free space under the sim root");
}

template <class T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

template <class T>
std::optional<T> get_opt(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    return std::nullopt;
  return it->get<T>();
}

json to_json(const virtual_process& p) {
  return {{"pid", p.pid},
          {"name", p.name},
          {"log_file", p.log_file},
          {"started_at_ms", p.started_at_ms},
          {"duration_ms", opt(p.duration_ms)},
          {"exit_code", p.exit_code},
          {"signalled_at_ms", opt(p.signalled_at_ms)},
          {"signal_exit_code", p.signal_exit_code}};
}

virtual_process process_from(const json& j) {
  virtual_process p;
  p.pid = j.at("pid").get<int64_t>();
  p.name = j.at("name").get<std::string>();
  p.log_file = j.at("log_file").get<std::string>();
  p.started_at_ms = j.at("started_at_ms").get<int64_t>();
  p.duration_ms = get_opt<int64_t>(j, "duration_ms");
  p.exit_code = j.at("exit_code").get<int>();
  p.signalled_at_ms = get_opt<int64_t>(j, "signalled_at_ms");
  p.signal_exit_code = j.at("signal_exit_code").get<int>();
  return p;
}

json to_json(const sim_instance& i) {
  json procs = json::array();
  for (const auto& p : i.processes)
    procs.push_back(to_json(p));
  return {{"id", i.id},
          {"rank", i.rank},
          {"idempotency_key", i.idempotency_key},
          {"phase", std::string{to_string(i.state)}},
          {"launched_at_ms", i.launched_at_ms},
          {"ready_at_ms", opt(i.ready_at_ms)},
          {"preempt_at_ms", opt(i.preempt_at_ms)},
          {"ended_at_ms", opt(i.ended_at_ms)},
          {"preempted", i.preempted},
          {"end_reason", i.end_reason},
          {"reported", i.reported},
          {"next_pid", i.next_pid},
          {"processes", procs}};
}

phase phase_from(const std::string& s) {
  if (s == "active")
    return phase::active;
  if (s == "stopped")
    return phase::stopped;
  if (s == "terminated")
    return phase::terminated;
  throw std::runtime_error("unknown phase '" + s + "'");
}

sim_instance instance_from(const json& j) {
  sim_instance i;
  i.id = j.at("id").get<std::string>();
  i.rank = j.at("rank").get<uint32_t>();
  i.idempotency_key = j.at("idempotency_key").get<std::string>();
  i.state = phase_from(j.at("phase").get<std::string>());
  i.launched_at_ms = j.at("launched_at_ms").get<int64_t>();
  i.ready_at_ms = get_opt<int64_t>(j, "ready_at_ms");
  i.preempt_at_ms = get_opt<int64_t>(j, "preempt_at_ms");
  i.ended_at_ms = get_opt<int64_t>(j, "ended_at_ms");
  i.preempted = j.at("preempted").get<bool>();
  i.end_reason = j.at("end_reason").get<std::string>();
  i.reported = j.at("reported").get<bool>();
  i.next_pid = j.at("next_pid").get<int64_t>();
  for (const auto& p : j.at("processes"))
    i.processes.push_back(process_from(p));
  return i;
}

json to_json(const sim_cluster& c) {
  json instances = json::array();
  for (const auto& i : c.instances)
    instances.push_back(to_json(i));
  return {{"version", format_version},
          {"cloud", c.cloud},
          {"cluster", c.cluster},
          {"region", c.region},
          {"zone", c.zone},
          {"instance_type", c.what.instance_type},
          {"accelerator", c.what.accelerator},
          {"accelerator_count", c.what.accelerator_count},
          {"vcpus", c.what.vcpus},
          {"spot", c.spot},
          {"num_nodes", c.num_nodes},
          {"per_node",
           {{"cpus", c.per_node.cpus},
            {"memory_gib", c.per_node.memory_gib},
            {"gpus", c.per_node.gpus}}},
          {"labels", c.labels},
          {"created_at_ms", c.created_at_ms},
          {"instances", instances}};
}

sim_cluster cluster_from(const json& j) {
  if (j.at("version").get<int>() != format_version)
    throw std::runtime_error("unknown format version "
                             + j.at("version").dump());
  sim_cluster c;
  c.cloud = j.at("cloud").get<std::string>();
  c.cluster = j.at("cluster").get<std::string>();
  c.region = j.at("region").get<std::string>();
  c.zone = j.at("zone").get<std::string>();
  c.what.instance_type = j.at("instance_type").get<std::string>();
  c.what.accelerator = j.at("accelerator").get<std::string>();
  c.what.accelerator_count = j.at("accelerator_count").get<double>();
  c.what.vcpus = j.at("vcpus").get<double>();
  c.spot = j.at("spot").get<bool>();
  c.what.spot = c.spot;
  c.what.on_demand = !c.spot;
  c.num_nodes = j.at("num_nodes").get<uint32_t>();
  const auto& pn = j.at("per_node");
  c.per_node.cpus = pn.at("cpus").get<double>();
  c.per_node.memory_gib = pn.at("memory_gib").get<double>();
  c.per_node.gpus = pn.at("gpus").get<std::map<std::string, double>>();
  c.labels = j.at("labels").get<std::map<std::string, std::string>>();
  c.created_at_ms = j.at("created_at_ms").get<int64_t>();
  for (const auto& i : j.at("instances"))
    c.instances.push_back(instance_from(i));
  return c;
}

result<std::string> read_whole(const fs::path& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return io_error("cannot read " + path.string(), errno);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

std::string_view to_string(phase p) noexcept {
  switch (p) {
    case phase::active:
      return "active";
    case phase::stopped:
      return "stopped";
    case phase::terminated:
      return "terminated";
  }
  return "active";
}

world_store::world_store(fs::path root, bool sync)
  : root_(std::move(root)), sync_(sync) {}

world_store::~world_store() {
  if (lock_fd_ >= 0)
    ::close(lock_fd_);
}

result<void> world_store::open() {
  std::error_code ec;
  fs::create_directories(root_ / ".sim" / "clusters", ec);
  if (ec)
    return make_error(errc::fatal,
                      "sim: cannot create " + (root_ / ".sim").string() + ": "
                        + ec.message(),
                      "check permissions of the sim root (SKYD_HOME)");
  auto lock_path = root_ / ".sim" / "lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return io_error("cannot open " + lock_path.string(), errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK)
      return make_error(errc::conflict,
                        "sim: " + root_.string()
                          + " is already used by another sim world (another "
                            "skyd?)",
                        "stop the other skyd, or give this one its own "
                        "SKYD_HOME");
    return io_error("cannot lock " + lock_path.string(), err);
  }
  lock_fd_ = fd;
  return {};
}

fs::path world_store::cluster_file(const std::string& cloud,
                                   const std::string& cluster) const {
  return root_ / ".sim" / "clusters" / cloud / (cluster + ".json");
}

fs::path world_store::cluster_dir(const std::string& cloud,
                                  const std::string& cluster) const {
  return root_ / cloud / cluster;
}

fs::path world_store::node_home(const std::string& cloud,
                                const std::string& cluster,
                                uint32_t rank) const {
  return cluster_dir(cloud, cluster) / std::to_string(rank);
}

result<void> world_store::write(const fs::path& path,
                                const std::string& text) const {
  static std::atomic<uint64_t> counter{0};
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  auto tmp = path;
  tmp += ".tmp." + std::to_string(::getpid()) + "."
         + std::to_string(counter.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return io_error("cannot write " + tmp.string(), errno);
  size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return io_error("cannot write " + tmp.string(), err);
    }
    done += static_cast<size_t>(n);
  }
  if (sync_ && ::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return io_error("cannot flush " + tmp.string(), err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return io_error("cannot replace " + path.string(), err);
  }
  return {};
}

result<std::vector<sim_cluster>> world_store::load_clusters() const {
  std::vector<sim_cluster> out;
  std::error_code ec;
  auto dir = root_ / ".sim" / "clusters";
  for (fs::recursive_directory_iterator it{dir, ec}, end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_regular_file() || it->path().extension() != ".json")
      continue;
    auto text = read_whole(it->path());
    if (!text)
      return text.error();
    try {
      out.push_back(cluster_from(json::parse(*text)));
    } catch (const std::exception& e) {
      return make_error(errc::fatal,
                        "sim: cannot read the simulated cluster "
                          + it->path().string() + ": " + e.what(),
                        "fix the file or delete it (its simulated instances "
                        "are then forgotten)");
    }
  }
  if (ec)
    return make_error(errc::fatal,
                      "sim: cannot list " + dir.string() + ": " + ec.message(),
                      "check permissions of the sim root");
  return out;
}

result<void> world_store::save(const sim_cluster& c) const {
  return write(cluster_file(c.cloud, c.cluster), to_json(c).dump(1));
}

result<void> world_store::remove(const std::string& cloud,
                                 const std::string& cluster) const {
  std::error_code ec;
  fs::remove(cluster_file(cloud, cluster), ec);
  if (ec)
    return make_error(errc::fatal,
                      "sim: cannot remove "
                        + cluster_file(cloud, cluster).string() + ": "
                        + ec.message(),
                      "check permissions of the sim root");
  return {};
}

result<std::optional<world_file>> world_store::load_world() const {
  auto path = root_ / ".sim" / "world.json";
  std::error_code ec;
  if (!fs::exists(path, ec))
    return std::optional<world_file>{};
  auto text = read_whole(path);
  if (!text)
    return text.error();
  try {
    auto j = json::parse(*text);
    world_file w;
    w.fingerprint = j.at("scenario_fingerprint").get<std::string>();
    w.fired = j.at("fired").get<std::map<std::string, int64_t>>();
    for (const auto& o : j.at("capacity_overrides")) {
      capacity_key key{o.at("spot").get<bool>(),
                       o.at("name").get<std::string>()};
      w.overrides[o.at("place").get<std::string>()][key]
        = get_opt<int64_t>(o, "limit");
    }
    return std::optional<world_file>{std::move(w)};
  } catch (const std::exception& e) {
    return make_error(errc::fatal,
                      "sim: cannot read " + path.string() + ": " + e.what(),
                      "fix the file or delete it (fault counters and "
                      "capacity changes are then reset)");
  }
}

result<void> world_store::save_world(const world_file& w) const {
  json overrides = json::array();
  for (const auto& [place, limits] : w.overrides)
    for (const auto& [key, limit] : limits)
      overrides.push_back({{"place", place},
                           {"spot", key.spot},
                           {"name", key.name},
                           {"limit", opt(limit)}});
  json j = {{"version", format_version},
            {"scenario_fingerprint", w.fingerprint},
            {"fired", w.fired},
            {"capacity_overrides", overrides}};
  return write(root_ / ".sim" / "world.json", j.dump(1));
}

std::optional<fs::path> world_store::move_to_trash(const fs::path& dir) const {
  static std::atomic<uint64_t> counter{0};
  std::error_code ec;
  if (!fs::exists(dir, ec))
    return std::nullopt;
  auto trash = root_ / ".sim" / "trash";
  fs::create_directories(trash, ec);
  auto target = trash
                / (dir.filename().string() + "." + std::to_string(::getpid())
                   + "." + std::to_string(counter.fetch_add(1)));
  fs::rename(dir, target, ec);
  if (ec) {
    // Could not move it aside (another file system?): delete in place.
    fs::remove_all(dir, ec);
    return std::nullopt;
  }
  return target;
}

void world_store::empty_trash() const {
  std::error_code ec;
  fs::remove_all(root_ / ".sim" / "trash", ec);
}

} // namespace sky::providers::sim
