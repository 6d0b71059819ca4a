#include "skyd/config.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "messages/suggest.hpp"

namespace sky::daemon {

namespace {

// `~/x` -> `$HOME/x`: config files name scenario files like a shell would.
std::string expand_home(const std::string& path) {
  if (path != "~" && path.rfind("~/", 0) != 0)
    return path;
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0')
    return path;
  return std::string{home} + path.substr(1);
}

// Applies one scalar to the config; returns an error message ("" = ok).
using setter = std::function<std::string(config&, const YAML::Node&)>;

struct key_info {
  std::string description;
  setter set;
};

template <class T>
bool scalar_as(const YAML::Node& node, T& out) {
  if (!node.IsScalar())
    return false;
  try {
    out = node.as<T>();
    return true;
  } catch (const YAML::Exception&) {
    return false;
  }
}

// A number of launch rounds; 0 means "keep trying", so it is allowed.
std::string rounds(const YAML::Node& n, uint32_t& out) {
  uint32_t v = 0;
  if (!scalar_as(n, v) || v > 1'000'000)
    return "must be a number of rounds between 0 (keep trying) and 1000000";
  out = v;
  return {};
}

// Seconds, fractions allowed (tests wait 0.2 s), kept as milliseconds. At
// least 1 ms: a zero gap would retry a full cloud without pause.
std::string seconds_as_ms(const YAML::Node& n, int64_t& out_ms) {
  double s = 0;
  if (!scalar_as(n, s) || !(s >= 0.001) || s > 86'400)
    return "must be a number of seconds between 0.001 and 86400 (one day), "
           "e.g. 60 or 0.5";
  out_ms = static_cast<int64_t>(std::llround(s * 1000));
  return {};
}

// "30001-30999" (or one port): first <= last, both 1..65535.
std::string port_range_text(const YAML::Node& n, std::string& out) {
  std::string v;
  if (!scalar_as(n, v))
    return "must be a port range, e.g. 30001-30999";
  auto dash = v.find('-');
  auto num = [](const std::string& t, long& p) {
    char* end = nullptr;
    p = std::strtol(t.c_str(), &end, 10);
    return !t.empty() && end && *end == '\0' && p >= 1 && p <= 65535;
  };
  long a = 0, b = 0;
  if (!num(v.substr(0, dash), a)
      || (dash != std::string::npos && !num(v.substr(dash + 1), b)))
    return "must be a port range of ports 1-65535, e.g. 30001-30999";
  if (dash != std::string::npos && b < a)
    return "must list the lower port first, e.g. 30001-30999";
  out = v;
  return {};
}

const std::map<std::string, key_info>& registry() {
  static const std::map<std::string, key_info> keys{
    {"log.level",
     {"log verbosity: trace, debug, info, warn or error (default info)",
      [](config& c, const YAML::Node& n) -> std::string {
        std::string level;
        static const std::vector<std::string> levels{"trace", "debug", "info",
                                                     "warn", "error"};
        if (!scalar_as(n, level)
            || std::find(levels.begin(), levels.end(), level) == levels.end())
          return "must be one of trace, debug, info, warn, error"
                 + did_you_mean(level, levels);
        c.log_level = level;
        return {};
      }}},
    {"wire.max_message_bytes",
     {"largest control frame skyd accepts, in bytes (default 16 MiB)",
      [](config& c, const YAML::Node& n) -> std::string {
        uint64_t bytes = 0;
        if (!scalar_as(n, bytes) || bytes < 4096 || bytes > (uint64_t{1} << 30))
          return "must be a number of bytes between 4096 and 1073741824";
        c.max_message_bytes = bytes;
        return {};
      }}},
    {"catalogs.dir",
     {"directory of SkyPilot-format price catalogs (<dir>/<cloud>/vms.csv); "
      "default: the small catalog shipped with skyd",
      [](config& c, const YAML::Node& n) -> std::string {
        std::string dir;
        if (!scalar_as(n, dir) || dir.empty())
          return "must be a directory path";
        c.catalogs_dir = dir;
        return {};
      }}},
    {"sim.clouds",
     {"clouds to simulate from the catalogs, e.g. [aws, gcp, lambda] "
      "(default: none)",
      [](config& c, const YAML::Node& n) -> std::string {
        std::vector<std::string> clouds;
        if (n.IsScalar()) {
          std::string one;
          if (!scalar_as(n, one))
            return "must be a list of cloud names";
          clouds.push_back(one);
        } else if (n.IsSequence()) {
          for (const auto& item : n) {
            std::string cloud;
            if (!scalar_as(item, cloud) || cloud.empty())
              return "must be a list of cloud names";
            clouds.push_back(cloud);
          }
        } else if (!n.IsNull()) {
          return "must be a list of cloud names, e.g. [gcp, aws]";
        }
        c.sim_clouds = clouds;
        return {};
      }}},
    {"sim.scenario",
     {"scenario file of the simulated clouds: capacity, quotas, failures, "
      "preemptions (docs/SIM.md); default: plenty of everything",
      [](config& c, const YAML::Node& n) -> std::string {
        std::string file;
        if (!scalar_as(n, file) || file.empty())
          return "must be the path of a scenario YAML file, e.g. "
                 "~/scenarios/failover.yaml";
        c.sim_scenario = expand_home(file);
        return {};
      }}},
    {"sim.mode",
     {"what a simulated node is: real (a sandbox on this host that runs "
      "jobs; default) or virtual (no process; for scale tests)",
      [](config& c, const YAML::Node& n) -> std::string {
        std::string mode;
        if (!scalar_as(n, mode) || (mode != "real" && mode != "virtual"))
          return "must be real or virtual"
                 + did_you_mean(mode, {"real", "virtual"});
        c.sim_mode = mode;
        return {};
      }}},
    {"local.cpus",
     {"vCPUs the local infra may use (default: all of this host's)",
      [](config& c, const YAML::Node& n) -> std::string {
        double v = 0;
        if (!scalar_as(n, v) || v <= 0)
          return "must be a positive number";
        c.local_cpus = v;
        return {};
      }}},
    {"local.memory_gib",
     {"memory (GiB) the local infra may use (default: all of this host's)",
      [](config& c, const YAML::Node& n) -> std::string {
        double v = 0;
        if (!scalar_as(n, v) || v <= 0)
          return "must be a positive number";
        c.local_memory_gib = v;
        return {};
      }}},
    {"local.gpus",
     {"GPUs of the local infra, e.g. {A100: 2}; set to skip nvidia-smi "
      "detection ({} = none)",
      [](config& c, const YAML::Node& n) -> std::string {
        std::map<std::string, double> gpus;
        if (!n.IsMap() && !n.IsNull())
          return "must be a map of accelerator name to count, e.g. {A100: 2}";
        if (n.IsMap())
          for (const auto& kv : n) {
            std::string name;
            double count = 0;
            if (!scalar_as(kv.first, name) || !scalar_as(kv.second, count)
                || count < 0)
              return "must map accelerator names to counts, e.g. {A100: 2}";
            gpus[name] = count;
          }
        c.local_gpus = gpus;
        return {};
      }}},
    {"daemon.io_workers",
     {"threads for blocking work: provider calls and node I/O (default 8)",
      [](config& c, const YAML::Node& n) -> std::string {
        uint32_t v = 0;
        if (!scalar_as(n, v) || v < 1 || v > 256)
          return "must be a number between 1 and 256";
        c.io_workers = v;
        return {};
      }}},
    {"jobs.max_concurrent_launches",
     {"managed jobs launching their clusters at once; the others wait in "
      "PENDING (default 16)",
      [](config& c, const YAML::Node& n) -> std::string {
        uint32_t v = 0;
        if (!scalar_as(n, v) || v < 1 || v > 100000)
          return "must be a number between 1 and 100000";
        c.jobs_max_concurrent_launches = v;
        return {};
      }}},
    {"jobs.launch_rounds",
     {"launch rounds without capacity before a managed job's task gives up "
      "on its first launch (FAILED_NO_RESOURCE); 0 = keep trying (default 3)",
      [](config& c, const YAML::Node& n) -> std::string {
        return rounds(n, c.jobs_launch_rounds);
      }}},
    {"jobs.relaunch_rounds",
     {"the same for a relaunch after a lost cluster or a restart; 0 = keep "
      "trying (default 0)",
      [](config& c, const YAML::Node& n) -> std::string {
        return rounds(n, c.jobs_relaunch_rounds);
      }}},
    {"jobs.retry_gap_seconds",
     {"wait after a managed job's launch round found no capacity; doubled "
      "after each further round (default 60; fractions allowed)",
      [](config& c, const YAML::Node& n) -> std::string {
        return seconds_as_ms(n, c.jobs_retry_gap_ms);
      }}},
    {"jobs.max_retry_gap_seconds",
     {"the longest that wait grows to; at least jobs.retry_gap_seconds "
      "(default 600)",
      [](config& c, const YAML::Node& n) -> std::string {
        return seconds_as_ms(n, c.jobs_max_retry_gap_ms);
      }}},
    {"ssh.loss_after_seconds",
     {"an SSH pool host that has not answered for this long is lost: jobs on "
      "it end FAILED_DRIVER and managed jobs recover elsewhere (default 30; "
      "a shorter wait reacts faster and risks taking a slow network for a "
      "dead host)",
      [](config& c, const YAML::Node& n) -> std::string {
        return seconds_as_ms(n, c.ssh_loss_after_ms);
      }}},
    {"serve.probe_interval_seconds",
     {"how often each service replica's readiness probe runs (default 1)",
      [](config& c, const YAML::Node& n) -> std::string {
        return seconds_as_ms(n, c.serve_probe_interval_ms);
      }}},
    {"serve.decision_interval_seconds",
     {"how often a service's autoscaler and planner run when nothing "
      "changed; a replica's change replans at once (default 1)",
      [](config& c, const YAML::Node& n) -> std::string {
        return seconds_as_ms(n, c.serve_decision_interval_ms);
      }}},
    {"serve.drain_seconds",
     {"a replica removed on purpose leaves the rotation at once and is torn "
      "down after this, so requests in flight finish (default 5)",
      [](config& c, const YAML::Node& n) -> std::string {
        return seconds_as_ms(n, c.serve_drain_ms);
      }}},
    {"serve.provision_retry_seconds",
     {"wait before relaunching after a replica launch failed; doubled per "
      "further failure up to 300 s (default 10)",
      [](config& c, const YAML::Node& n) -> std::string {
        return seconds_as_ms(n, c.serve_provision_retry_ms);
      }}},
    {"serve.qps_window_seconds",
     {"the window the autoscaler measures requests per second over "
      "(default 60)",
      [](config& c, const YAML::Node& n) -> std::string {
        return seconds_as_ms(n, c.serve_qps_window_ms);
      }}},
    {"serve.lb_bind_address",
     {"the address the services' load balancer listens on (default "
      "127.0.0.1; 0.0.0.0 serves other hosts)",
      [](config& c, const YAML::Node& n) -> std::string {
        std::string v;
        if (!scalar_as(n, v) || v.empty())
          return "must be an IPv4 address, e.g. 127.0.0.1 or 0.0.0.0";
        c.serve_lb_bind_address = v;
        return {};
      }}},
    {"serve.lb_ports",
     {"ports the load balancer gives services, one each (default "
      "30001-30999)",
      [](config& c, const YAML::Node& n) -> std::string {
        return port_range_text(n, c.serve_lb_ports);
      }}},
    {"serve.replica_ports",
     {"ports given to replicas as SKYD_REPLICA_PORT, one each (default "
      "20001-24999)",
      [](config& c, const YAML::Node& n) -> std::string {
        return port_range_text(n, c.serve_replica_ports);
      }}},
    {"events.keep_events",
     {"keep at most this many of the newest events; older history is "
      "removed, current state stays (default 0: no count limit)",
      [](config& c, const YAML::Node& n) -> std::string {
        uint64_t v = 0;
        if (!scalar_as(n, v))
          return "must be a whole number of events (0 for no limit), e.g. "
                 "1000000";
        c.events_keep = v;
        return {};
      }}},
    {"events.keep_days",
     {"remove events older than this many days; current state stays "
      "(default 90; 0 keeps all)",
      [](config& c, const YAML::Node& n) -> std::string {
        double days = 0;
        if (!scalar_as(n, days) || !(days >= 0) || days > 36500)
          return "must be a number of days between 0 (keep all) and 36500, "
                 "e.g. 90 or 0.5";
        c.events_keep_ms
          = static_cast<int64_t>(std::llround(days * 86'400'000));
        return {};
      }}},
    {"events.sync",
     {"sync the event log to disk on every commit (default true; false "
      "only for throwaway test daemons)",
      [](config& c, const YAML::Node& n) -> std::string {
        bool sync = true;
        if (!scalar_as(n, sync))
          return "must be true or false";
        c.events_sync = sync;
        return {};
      }}},
  };
  return keys;
}

std::vector<std::string> key_names() {
  std::vector<std::string> names;
  for (const auto& [k, _] : registry())
    names.push_back(k);
  return names;
}

std::string position(const std::string& origin, const YAML::Mark& mark) {
  if (mark.is_null())
    return origin;
  return origin + ":" + std::to_string(mark.line + 1) + ":"
         + std::to_string(mark.column + 1);
}

caf::error apply(config& cfg, const std::string& key, const YAML::Node& value,
                 const std::string& where) {
  auto& keys = registry();
  auto i = keys.find(key);
  if (i == keys.end())
    return make_error(errc::invalid_argument,
                      where + ": unknown configuration key '" + key + "'"
                        + did_you_mean(key, key_names()),
                      "run `skyd --help-config` for the keys skyd knows");
  if (auto problem = i->second.set(cfg, value); !problem.empty())
    return make_error(errc::invalid_argument,
                      where + ": " + key + " " + problem,
                      "fix the value of '" + key + "'");
  return {};
}

// Walks nested maps, turning `a: {b: 1}` into the key "a.b".
caf::error apply_tree(config& cfg, const YAML::Node& node,
                      const std::string& prefix, const std::string& origin) {
  for (const auto& kv : node) {
    std::string key;
    if (!scalar_as(kv.first, key))
      return make_error(errc::invalid_argument,
                        position(origin, kv.first.Mark())
                          + ": configuration keys must be strings");
    std::string full = prefix.empty() ? key : prefix + "." + key;
    if (kv.second.IsMap() && registry().count(full) == 0) {
      if (auto err = apply_tree(cfg, kv.second, full, origin))
        return err;
      continue;
    }
    if (auto err
        = apply(cfg, full, kv.second, position(origin, kv.second.Mark())))
      return err;
  }
  return {};
}

// 60000 -> "60", 200 -> "0.2": as the keys are written.
std::string seconds_text(int64_t ms) {
  std::ostringstream out;
  out << static_cast<double>(ms) / 1000;
  return out.str();
}

} // namespace

result<config> load_config(const home_layout& home,
                           const std::filesystem::path& file,
                           const std::vector<std::string>& overrides) {
  config cfg;
  cfg.home = home;
  std::ifstream in{file};
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    try {
      auto root = YAML::Load(text.str());
      if (root.IsMap()) {
        if (auto err = apply_tree(cfg, root, "", file.string()))
          return err;
      } else if (!root.IsNull()) {
        return make_error(errc::invalid_argument,
                          file.string()
                            + ": the configuration must be a YAML map",
                          "write `key: value` lines, e.g. `log: {level: "
                          "debug}`");
      }
    } catch (const YAML::Exception& e) {
      return make_error(errc::invalid_argument,
                        position(file.string(), e.mark) + ": " + e.msg,
                        "fix the YAML syntax");
    }
  }
  for (const auto& item : overrides) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error(errc::invalid_argument,
                        "--set " + item + ": expected key=value",
                        "for example --set log.level=debug");
    YAML::Node value;
    try {
      value = YAML::Load(item.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      return make_error(errc::invalid_argument, "--set " + item + ": " + e.msg);
    }
    if (auto err = apply(cfg, item.substr(0, eq), value, "--set " + item))
      return err;
  }
  // Checked once every key is in: either may be set alone or in any order.
  if (cfg.jobs_max_retry_gap_ms < cfg.jobs_retry_gap_ms)
    return make_error(errc::invalid_argument,
                      "jobs.max_retry_gap_seconds ("
                        + seconds_text(cfg.jobs_max_retry_gap_ms)
                        + ") is below jobs.retry_gap_seconds ("
                        + seconds_text(cfg.jobs_retry_gap_ms) + ")",
                      "raise jobs.max_retry_gap_seconds to at least "
                        + seconds_text(cfg.jobs_retry_gap_ms)
                        + ", or lower jobs.retry_gap_seconds");
  return cfg;
}

std::vector<std::pair<std::string, std::string>> config_keys() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, info] : registry())
    out.emplace_back(k, info.description);
  return out;
}

} // namespace sky::daemon
