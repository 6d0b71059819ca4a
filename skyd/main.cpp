// skyd: the daemon. See docs/ARCHITECTURE.md.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>

#include "actors/core/logging.hpp"
#include "actors/core/root_supervisor.hpp"
#include "messages/instance_lock.hpp"
#include "messages/version.hpp"
#include "skyd/config.hpp"
#include "skyd/daemonize.hpp"
#include "skyd/logging_setup.hpp"
#include "skyd/sim_setup.hpp"
#include "skyd/ssh_setup.hpp"
#include "skyd/systemd_notify.hpp"
#include "optimizer/placement/catalog.hpp"
#include "providers/local/local_provider.hpp"
#include "storage/rocksdb_event_log.hpp"

namespace {

struct options {
  std::string home;
  std::string config_file;
  std::vector<std::string> overrides;
  std::string log_level;
  bool foreground = false;
};

int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

// Creates SKYD_HOME and its private run directory.
sky::result<void> prepare_home(const sky::home_layout& home) {
  std::error_code ec;
  std::filesystem::create_directories(home.run_dir(), ec);
  if (!ec)
    std::filesystem::create_directories(home.log_dir(), ec);
  if (ec)
    return sky::make_error(sky::errc::unavailable,
                           "cannot create " + home.home.string() + ": "
                             + ec.message(),
                           "choose a writable SKYD_HOME");
  // Sockets live in run/: only this user may reach them.
  std::filesystem::permissions(home.run_dir(),
                               std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  std::filesystem::permissions(home.home, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  auto sock = home.control_socket().string();
  if (sock.size() > 100)
    return sky::make_error(sky::errc::invalid_argument,
                           "SKYD_HOME is too deep: the socket path " + sock
                             + " exceeds the 100-byte limit of IPC sockets",
                           "use a shorter SKYD_HOME");
  return {};
}

// The catalog shipped with skyd: installed beside the binary, else the
// source tree's (a build that was not installed).
std::filesystem::path default_catalogs_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto installed
      = exe.parent_path().parent_path() / "share" / "skyd" / "catalogs";
    if (std::filesystem::is_directory(installed))
      return installed;
  }
  return SKY_DEFAULT_CATALOGS;
}

// Price catalogs of the simulated clouds (none configured: an empty one).
sky::result<std::shared_ptr<const sky::optimizer::catalog>>
load_catalog(const sky::daemon::config& cfg) {
  if (cfg.sim_clouds.empty())
    return std::make_shared<const sky::optimizer::catalog>(
      sky::optimizer::catalog_builder{}.finish().cat);
  auto dir = cfg.catalogs_dir.empty() ? default_catalogs_dir()
                                      : std::filesystem::path{cfg.catalogs_dir};
  auto loaded = sky::optimizer::load_catalogs(dir, cfg.sim_clouds);
  if (!loaded) {
    auto info = sky::describe(loaded.error());
    return sky::make_error(
      sky::errc::invalid_argument, "sim.clouds: " + info.message,
      info.hint.empty() ? "list clouds that have " + dir.string()
                            + "/<cloud>/vms.csv, or set catalogs.dir"
                        : info.hint);
  }
  // Malformed rows are real-world data problems: report them once, go on.
  for (const auto& d : loaded->diagnostics)
    spdlog::warn("catalog: {}:{}: {}", d.file, d.line, d.reason);
  if (loaded->unlisted_diagnostics > 0)
    spdlog::warn("catalog: {} more malformed rows not listed",
                 loaded->unlisted_diagnostics);
  return std::make_shared<const sky::optimizer::catalog>(
    std::move(loaded->cat));
}

// Waits for SIGTERM/SIGINT on a thread of its own and turns them into an
// orderly shutdown of the actor tree.
class signal_watcher {
public:
  explicit signal_watcher(caf::actor root) : root_(std::move(root)) {
    thread_ = std::thread([this] { run(); });
  }
  ~signal_watcher() {
    done_ = true;
    thread_.join();
  }

private:
  void run() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    timespec tick{0, 200'000'000};
    int count = 0;
    while (!done_) {
      int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig < 0)
        continue;
      if (++count == 1) {
        sky::actors::logger("daemon")->info(
          "received {}, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        caf::anon_send(root_, sky::shutdown_atom_v);
      } else {
        sky::actors::logger("daemon")->warn(
          "already stopping; send SIGKILL to stop at once");
      }
    }
  }

  caf::actor root_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

int run_daemon(const sky::daemon::config& cfg, bool foreground,
               sky::daemon::readiness readiness) {
  const auto& home = cfg.home;
  // SIGTERM/SIGINT go to the watcher thread only: block them before any
  // thread starts (spdlog, RocksDB and CAF threads inherit the mask).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  auto fail = [&](const std::string& message) {
    spdlog::error("{}", message);
    readiness.failed("skyd: " + message);
    return 1;
  };
  auto lock = sky::instance_lock::acquire(home.lock_file());
  if (!lock) {
    auto info = sky::describe(lock.error());
    readiness.failed("skyd: " + info.message + "\n" + info.hint);
    if (foreground)
      std::cerr << "skyd: " << info.message << "\n" << info.hint << "\n";
    return info.code == sky::errc::already_exists ? 3 : 1;
  }
  // A start-up failure releases the lock before the launcher hears of it:
  // otherwise skyctl, seeing the lock still held, would take the failing
  // daemon for one that another skyctl started.
  auto fail_unlocked = [&](const std::string& message) {
    { auto released = std::move(*lock); }
    return fail(message);
  };
  sky::daemon::setup_logging(home.log_file(), cfg.log_level, foreground);
  spdlog::info("skyd {} starting (pid {}, SKYD_HOME={})", sky::version,
               getpid(), home.home.string());

  sky::storage::rocksdb_settings db_settings;
  db_settings.sync = cfg.events_sync;
  auto storage
    = sky::storage::open_rocksdb_event_log(home.db_dir(), db_settings);
  if (!storage) {
    auto info = sky::describe(storage.error());
    return fail_unlocked(info.message
                         + (info.hint.empty() ? "" : "\n" + info.hint));
  }
  std::shared_ptr<sky::storage::event_log> log{std::move(*storage)};

  auto catalog = load_catalog(cfg);
  if (!catalog) {
    auto info = sky::describe(catalog.error());
    return fail_unlocked(info.message
                         + (info.hint.empty() ? "" : "\n" + info.hint));
  }
  sky::providers::local_settings local_settings;
  local_settings.root = home.nodes_dir();
  local_settings.cpus = cfg.local_cpus;
  local_settings.memory_gib = cfg.local_memory_gib;
  local_settings.gpus = cfg.local_gpus;
  auto local = sky::providers::make_local_provider(local_settings);
  if (!local) {
    auto info = sky::describe(local.error());
    return fail_unlocked("local infra: " + info.message);
  }
  if (!(*local)->host().gpu_detection_problem.empty())
    spdlog::warn("local infra: {}", (*local)->host().gpu_detection_problem);
  std::shared_ptr<sky::providers::provider> local_provider{std::move(*local)};
  auto providers = std::make_shared<sky::actors::provider_set>();
  providers->by_name["local"] = local_provider;
  // The simulated clouds (sim.clouds): one provider each, one shared world.
  auto sim = sky::daemon::open_sim(cfg, *catalog, *providers);
  if (!sim) {
    auto info = sky::describe(sim.error());
    return fail_unlocked(info.message
                         + (info.hint.empty() ? "" : "\n" + info.hint));
  }
  if (*sim)
    spdlog::info("simulated clouds: {} ({} nodes{})", (*sim)->clouds().size(),
                 cfg.sim_mode,
                 cfg.sim_scenario.empty() ? ""
                                          : ", scenario " + cfg.sim_scenario);
  // SSH node pools ($SKYD_HOME/ssh_node_pools.yaml): provider "ssh".
  auto ssh = sky::daemon::open_ssh(cfg, *providers);
  if (!ssh) {
    auto info = sky::describe(ssh.error());
    return fail_unlocked(info.message + "\n" + info.hint);
  }

  caf::actor_system_config sys_cfg;
  sys_cfg.add_message_types<caf::id_block::sky>();
  // Two cores are common here: keep CAF's worker threads few.
  sys_cfg.set("scheduler.max-threads",
              std::max<size_t>(2, std::thread::hardware_concurrency()));
  sys_cfg.set("logger.verbosity", caf::atom("quiet"));
  // After each job a CAF worker looks for more: 100 times at once, then
  // (by default) 500 times 50 us apart, and only then waits on a condition
  // variable that the next enqueue signals. With thousands of actors on
  // slow timers (jobs' fallback polls, managed jobs' log copies) work comes
  // every millisecond or so, so the workers never got to wait: tens of
  // thousands of sleeps and wake-ups a second, most of an idle skyd's CPU
  // (docs/PERFORMANCE.md). Without the 50 us naps a worker waits on the
  // condition variable after its 100 quick looks; an enqueue wakes it.
  sys_cfg.set("work-stealing.moderate-poll-attempts", size_t{0});
  caf::actor_system sys{sys_cfg};

  auto exit_code = std::make_shared<std::atomic<int>>(0);
  sky::actors::root_settings rs;
  rs.gateway.control_endpoint
    = sky::home_layout::ipc_endpoint(home.control_socket());
  rs.gateway.events_endpoint
    = sky::home_layout::ipc_endpoint(home.events_socket());
  rs.gateway.socket_files = {home.control_socket(), home.events_socket()};
  rs.gateway.max_message_bytes = cfg.max_message_bytes;
  rs.identity = {home.home.string(), getpid(), wall_ms()};
  rs.planner.catalog = *catalog;
  rs.planner.clouds = cfg.sim_clouds;
  rs.planner.fixed = {local_provider};
  if (*ssh)
    rs.planner.pooled.push_back(*ssh);
  rs.providers = providers;
  rs.sim = *sim;
  rs.infra.catalogs_dir = cfg.catalogs_dir.empty()
                            ? default_catalogs_dir()
                            : std::filesystem::path{cfg.catalogs_dir};
  rs.infra.sim_clouds = cfg.sim_clouds;
  rs.infra.sim_scenario = cfg.sim_scenario;
  rs.infra.sim_mode = cfg.sim_mode;
  rs.infra.home = home.home;
  rs.infra.ssh = *ssh;
  for (const auto& [name, _] : providers->by_name)
    rs.infra.providers.push_back(name);
  rs.io_workers = cfg.io_workers;
  rs.max_concurrent_launches = cfg.jobs_max_concurrent_launches;
  rs.event_retention.max_events = cfg.events_keep;
  rs.event_retention.max_age_ms = cfg.events_keep_ms;
  rs.managed_job_limits.max_rounds_first_launch = cfg.jobs_launch_rounds;
  rs.managed_job_limits.max_rounds_relaunch = cfg.jobs_relaunch_rounds;
  rs.managed_job_limits.retry_gap_ms = cfg.jobs_retry_gap_ms;
  rs.managed_job_limits.max_retry_gap_ms = cfg.jobs_max_retry_gap_ms;
  rs.serve.probe_interval
    = std::chrono::milliseconds(cfg.serve_probe_interval_ms);
  rs.serve.decision_interval
    = std::chrono::milliseconds(cfg.serve_decision_interval_ms);
  rs.serve.drain = std::chrono::milliseconds(cfg.serve_drain_ms);
  rs.serve.limits.provision_retry_ms = cfg.serve_provision_retry_ms;
  rs.serve.qps_window_ms = cfg.serve_qps_window_ms;
  rs.serve.lb_bind_address = cfg.serve_lb_bind_address;
  // The config loader checked both ranges.
  rs.lb_ports = *sky::actors::parse_port_range(cfg.serve_lb_ports);
  rs.replica_ports = *sky::actors::parse_port_range(cfg.serve_replica_ports);
  // skyd-lb is installed (and built) next to skyd.
  rs.lb_binary
    = std::filesystem::read_symlink("/proc/self/exe").parent_path() / "skyd-lb";
  auto ready_once = std::make_shared<std::atomic<bool>>(false);
  rs.on_ready = [readiness, ready_once,
                 home](const std::string& error) mutable {
    if (ready_once->exchange(true))
      return;
    if (error.empty()) {
      sky::daemon::notify_ready("serving " + home.control_socket().string());
      readiness.ready();
    } else {
      readiness.failed("skyd: " + error);
    }
  };
  rs.on_stopping = [] { sky::daemon::notify_stopping(); };
  rs.on_watchdog = [] { sky::daemon::notify_watchdog(); };
  if (auto interval = sky::daemon::watchdog_interval())
    rs.watchdog_interval = std::chrono::duration_cast<caf::timespan>(*interval);
  rs.exit_code = exit_code;

  auto root = sys.spawn(sky::actors::root_supervisor, rs, log);
  {
    signal_watcher watcher{root};
    sys.await_all_actors_done();
  }
  log.reset();
  spdlog::info("skyd stopped (exit code {})", exit_code->load());
  spdlog::shutdown();
  return exit_code->load();
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"skyd: one daemon for AI workloads on any compute.\n"
               "Usually started by skyctl or systemd; see skyctl --help.",
               "skyd"};
  options opt;
  app.add_option("--home", opt.home,
                 "SKYD_HOME (default: $SKYD_HOME, else ~/.skyd)");
  app.add_option("--config", opt.config_file,
                 "configuration file (default: SKYD_HOME/config.yaml)");
  app.add_option("--set", opt.overrides,
                 "override a configuration key: --set log.level=debug");
  app.add_option("--log-level", opt.log_level,
                 "trace, debug, info, warn or error");
  app.add_flag("--foreground,-f", opt.foreground,
               "stay in the foreground and log to stderr too (systemd, "
               "debugging)");
  bool help_config = false;
  app.add_flag("--help-config", help_config,
               "list the configuration keys and exit");
  app.set_version_flag("--version", std::string{"skyd "} + sky::version);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (help_config) {
    for (const auto& [key, text] : sky::daemon::config_keys())
      std::cout << key << "\n    " << text << "\n";
    return 0;
  }
  auto home = sky::home_layout::resolve(opt.home);
  if (auto ok = prepare_home(home); !ok) {
    auto info = sky::describe(ok.error());
    std::cerr << "skyd: " << info.message << "\n" << info.hint << "\n";
    return 1;
  }
  if (!opt.log_level.empty())
    opt.overrides.push_back("log.level=" + opt.log_level);
  auto cfg = sky::daemon::load_config(
    home,
    opt.config_file.empty() ? home.config_file()
                            : std::filesystem::path{opt.config_file},
    opt.overrides);
  if (!cfg) {
    auto info = sky::describe(cfg.error());
    std::cerr << "skyd: " << info.message << "\n";
    if (!info.hint.empty())
      std::cerr << info.hint << "\n";
    return 2;
  }
  sky::daemon::readiness readiness;
  if (!opt.foreground)
    readiness = sky::daemon::daemonize();
  return run_daemon(*cfg, opt.foreground, readiness);
}
