#include "providers/common/cluster_store.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/file.h>
#include <unistd.h>

#include "providers/common/fs_util.hpp"

namespace sky::providers::local_detail {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int format_version = 1;
constexpr const char* record_name = "cluster.json";

std::optional<instance_state> parse_state(const std::string& s) {
  for (auto st : {instance_state::pending, instance_state::running,
                  instance_state::stopping, instance_state::stopped,
                  instance_state::terminated})
    if (to_string(st) == s)
      return st;
  return std::nullopt;
}

json to_json(const stored_cluster& c) {
  json ports = json::array();
  for (const auto& p : c.ports)
    ports.push_back({p.first, p.last});
  json instances = json::array();
  for (uint32_t rank = 0; rank < c.num_nodes; ++rank)
    instances.push_back(
      {{"id", "local:" + c.cluster + ":" + std::to_string(rank)},
       {"rank", rank},
       {"state", std::string{to_string(c.state)}},
       {"idempotency_key", c.idempotency_key}});
  return json{
    {"version", format_version},
    {"cluster", c.cluster},
    {"idempotency_key", c.idempotency_key},
    {"state", std::string{to_string(c.state)}},
    {"num_nodes", c.num_nodes},
    {"per_node",
     {{"cpus", c.per_node.cpus},
      {"memory_gib", c.per_node.memory_gib},
      {"gpus", c.per_node.gpus}}},
    {"region", c.region},
    {"zone", c.zone},
    {"instance_type", c.instance_type},
    {"ports", ports},
    {"labels", c.labels},
    {"created_at_ms", c.created_at_ms},
    {"updated_at_ms", c.updated_at_ms},
    // Redundant with the fields above; kept so that a person (or a tool)
    // reading the file sees the instances as the provider reports them.
    {"instances", instances},
  };
}

result<stored_cluster> from_json(const std::string& text,
                                 const fs::path& file) {
  auto bad = [&](const std::string& why) {
    return make_error(errc::fatal,
                      "local: cluster record " + file.string()
                        + " is unreadable: " + why,
                      "fix the file, or delete its cluster directory (that "
                      "forgets the cluster and its reservation)");
  };
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return bad("not a JSON object");
  try {
    if (j.value("version", 0) != format_version)
      return bad("unknown format version "
                 + std::to_string(j.value("version", 0)));
    stored_cluster c;
    c.cluster = j.at("cluster").get<std::string>();
    c.idempotency_key = j.at("idempotency_key").get<std::string>();
    auto state = parse_state(j.at("state").get<std::string>());
    if (!state)
      return bad("unknown state " + j.at("state").dump());
    c.state = *state;
    c.num_nodes = j.at("num_nodes").get<uint32_t>();
    const auto& pn = j.at("per_node");
    c.per_node.cpus = pn.value("cpus", 0.0);
    c.per_node.memory_gib = pn.value("memory_gib", 0.0);
    c.per_node.gpus = pn.value("gpus", std::map<std::string, double>{});
    c.region = j.value("region", "");
    c.zone = j.value("zone", "");
    c.instance_type = j.value("instance_type", "");
    for (const auto& p : j.value("ports", json::array()))
      c.ports.push_back({p.at(0).get<uint16_t>(), p.at(1).get<uint16_t>()});
    c.labels = j.value("labels", std::map<std::string, std::string>{});
    c.created_at_ms = j.value("created_at_ms", int64_t{0});
    c.updated_at_ms = j.value("updated_at_ms", int64_t{0});
    return c;
  } catch (const json::exception& e) {
    return bad(e.what());
  }
}

bool is_rank_name(const std::string& s) {
  return !s.empty() && s.size() < 10
         && std::all_of(s.begin(), s.end(),
                        [](char ch) { return ch >= '0' && ch <= '9'; });
}

} // namespace

cluster_record to_record(const stored_cluster& c) {
  cluster_record r;
  r.provider = "local";
  r.cluster = c.cluster;
  r.region = c.region;
  r.zone = c.zone;
  r.instance_type = c.instance_type;
  r.use_spot = false;
  r.per_node = c.per_node;
  for (uint32_t rank = 0; rank < c.num_nodes; ++rank) {
    instance_info i;
    i.id = "local:" + c.cluster + ":" + std::to_string(rank);
    i.rank = rank;
    i.state = c.state;
    i.internal_ip = "127.0.0.1";
    i.external_ip = "127.0.0.1";
    i.zone = c.zone;
    i.idempotency_key = c.idempotency_key;
    r.instances.push_back(std::move(i));
  }
  return r;
}

file_lock::~file_lock() {
  if (fd_ >= 0)
    ::close(fd_); // releases the flock
}

cluster_store::cluster_store(fs::path root) : root_(std::move(root)) {}

fs::path cluster_store::cluster_dir(const std::string& cluster) const {
  return root_ / cluster;
}

fs::path cluster_store::node_home(const std::string& cluster,
                                  uint32_t rank) const {
  return root_ / cluster / std::to_string(rank);
}

result<file_lock> cluster_store::lock() const {
  auto path = root_ / ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return make_error(errc::fatal,
                      errno_text("local: cannot open " + path.string(), errno),
                      "check that the nodes directory is writable");
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR)
      continue;
    int err = errno;
    ::close(fd);
    return make_error(errc::fatal,
                      errno_text("local: cannot lock " + path.string(), err));
  }
  return file_lock{fd};
}

result<std::optional<stored_cluster>>
cluster_store::load(const std::string& cluster) const {
  auto all = load_all();
  if (!all)
    return all.error();
  for (auto& c : *all)
    if (c.cluster == cluster)
      return std::optional<stored_cluster>{std::move(c)};
  return std::optional<stored_cluster>{};
}

result<std::vector<stored_cluster>> cluster_store::load_all() const {
  std::lock_guard<std::mutex> guard{cache_mu_};
  auto generation = read_generation();
  if (!cached_generation_ || *cached_generation_ != generation) {
    auto all = read_all();
    if (!all)
      return all.error();
    cache_.clear();
    for (auto& c : *all)
      cache_.emplace(c.cluster, std::move(c));
    cached_generation_ = generation;
  }
  std::vector<stored_cluster> out;
  out.reserve(cache_.size());
  for (const auto& [name, c] : cache_)
    out.push_back(c);
  return out;
}

uint64_t cluster_store::read_generation() const {
  auto text = read_file(root_ / ".generation");
  if (!text || !*text)
    return 0;
  return std::strtoull((*text)->c_str(), nullptr, 10);
}

uint64_t cluster_store::bump_generation() const {
  // Callers hold the store's flock for read-modify-write, so increments
  // do not race between objects.
  auto before = read_generation();
  (void) write_file_atomic(root_ / ".generation",
                           std::to_string(before + 1) + "\n");
  // Our cache stays good if nobody else changed anything since we read it.
  if (cached_generation_ && *cached_generation_ == before)
    cached_generation_ = before + 1;
  else
    cached_generation_.reset();
  return before + 1;
}

result<std::vector<stored_cluster>> cluster_store::read_all() const {
  std::vector<stored_cluster> out;
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it{root_, ec}, end; !ec && it != end;
       it.increment(ec)) {
    auto name = it->path().filename().string();
    std::error_code dir_ec;
    if (is_safe_name(name) && it->is_directory(dir_ec))
      names.push_back(name);
  }
  if (ec)
    return make_error(errc::fatal, "local: cannot list " + root_.string() + ": "
                                     + ec.message());
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    auto file = cluster_dir(name) / record_name;
    auto text = read_file(file);
    if (!text)
      return text.error();
    if (!*text)
      continue;
    auto c = from_json(**text, file);
    if (!c)
      return c.error();
    if (c->cluster != name)
      return make_error(errc::fatal,
                        "local: " + file.string() + " names cluster '"
                          + c->cluster + "'",
                        "the directory was renamed by hand: rename it back");
    out.push_back(std::move(*c));
  }
  return out;
}

result<void> cluster_store::save(const stored_cluster& c) const {
  std::error_code ec;
  fs::create_directories(cluster_dir(c.cluster), ec);
  if (ec)
    return make_error(errc::fatal,
                      "local: cannot create " + cluster_dir(c.cluster).string()
                        + ": " + ec.message(),
                      "check permissions and free space on this host");
  auto written = write_file_atomic(cluster_dir(c.cluster) / record_name,
                                   to_json(c).dump(2) + "\n");
  if (!written)
    return written;
  std::lock_guard<std::mutex> guard{cache_mu_};
  bump_generation();
  if (cached_generation_)
    cache_.insert_or_assign(c.cluster, c);
  return written;
}

std::vector<fs::path>
cluster_store::existing_node_homes(const std::string& cluster) const {
  std::vector<fs::path> homes;
  std::error_code ec;
  for (fs::directory_iterator it{cluster_dir(cluster), ec}, end;
       !ec && it != end; it.increment(ec)) {
    std::error_code dir_ec;
    if (is_rank_name(it->path().filename().string())
        && it->is_directory(dir_ec))
      homes.push_back(it->path());
  }
  std::sort(homes.begin(), homes.end());
  return homes;
}

result<std::optional<fs::path>>
cluster_store::move_to_trash(const std::string& cluster) const {
  static std::atomic<uint64_t> counter{0};
  auto from = cluster_dir(cluster);
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(from, ec)))
    return std::optional<fs::path>{};
  auto trash = root_ / ".trash";
  fs::create_directories(trash, ec);
  auto to = trash
            / (cluster + "-" + std::to_string(now_unix_ms()) + "-"
               + std::to_string(::getpid()) + "-"
               + std::to_string(counter.fetch_add(1)));
  if (::rename(from.c_str(), to.c_str()) != 0)
    return make_error(
      errc::fatal, errno_text("local: cannot remove " + from.string(), errno),
      "check permissions of the nodes directory");
  std::lock_guard<std::mutex> guard{cache_mu_};
  bump_generation();
  cache_.erase(cluster);
  return std::optional<fs::path>{to};
}

void cluster_store::empty_trash() const {
  std::error_code ec;
  fs::remove_all(root_ / ".trash", ec);
}

} // namespace sky::providers::local_detail
