#pragma once

// An in-memory provider for deterministic actor tests: instances appear at
// once, processes are entries in a table whose fate the test decides
// (finish them with an exit code, make them vanish), and failures of
// run_instances can be scripted per region. No I/O, no threads.

#include <deque>
#include <map>
#include <optional>

#include "providers/provider.hpp"

namespace sky::testing {

class fake_provider : public providers::provider {
public:
  struct process {
    uint32_t rank = 0;
    std::string cluster;
    std::string script;
    std::map<std::string, std::string> env;
    std::string log_file;
    providers::process_state state = providers::process_state::running;
    int exit_code = 0;
    std::string output;
    std::vector<int> signals;
  };

  explicit fake_provider(std::string name, bool fixed_capacity = false)
    : name_(std::move(name)), fixed_(fixed_capacity) {}

  // -- test controls ---------------------------------------------------------

  /// The next run_instances in `region` fails with `err`.
  void fail_next_run(const std::string& region, caf::error err) {
    failures_[region].push_back(std::move(err));
  }

  /// Ends every running process whose script contains `marker` (all with an
  /// empty marker) with `code`, appending `output` to its log.
  size_t finish(int code, const std::string& marker = {},
                const std::string& output = {}) {
    size_t n = 0;
    for (auto& [pid, p] : processes)
      if (p.state == providers::process_state::running
          && p.script.find(marker) != std::string::npos) {
        p.state = providers::process_state::exited;
        p.exit_code = code;
        p.output += output;
        ++n;
      }
    return n;
  }

  size_t running_count() const {
    size_t n = 0;
    for (const auto& [pid, p] : processes)
      n += p.state == providers::process_state::running;
    return n;
  }

  std::map<int64_t, process> processes;
  std::map<std::string, providers::cluster_record> clusters;
  std::vector<std::string> calls;

  // -- provider
  // ----------------------------------------------------------------

  const std::string& name() const override { return name_; }

  providers::feature_set features() const override {
    return {true, !fixed_, true, true, true};
  }

  result<providers::cluster_record>
  run_instances(const providers::provision_request& req) override {
    calls.push_back("run " + req.cluster + " " + req.region + "/" + req.zone);
    if (auto f = failures_.find(req.region);
        f != failures_.end() && !f->second.empty()) {
      auto err = f->second.front();
      f->second.pop_front();
      return err;
    }
    providers::cluster_record rec;
    rec.provider = name_;
    rec.cluster = req.cluster;
    rec.region = req.region;
    rec.zone = req.zone;
    rec.instance_type = req.instance_type;
    rec.use_spot = req.use_spot;
    rec.per_node = req.per_node;
    for (uint32_t r = 0; r < req.num_nodes; ++r)
      rec.instances.push_back(
        {name_ + ":" + req.cluster + ":" + std::to_string(r), r,
         providers::instance_state::running, "10.0.0." + std::to_string(r + 1),
         "", req.zone, req.idempotency_key()});
    clusters[req.cluster] = rec;
    return rec;
  }

  result<providers::cluster_record>
  wait_instances(const std::string& cluster, providers::instance_state,
                 std::chrono::milliseconds) override {
    return query_instances(cluster);
  }

  result<providers::cluster_record>
  query_instances(const std::string& cluster) override {
    auto i = clusters.find(cluster);
    if (i == clusters.end())
      return make_error(errc::not_found, "no cluster " + cluster);
    return i->second;
  }

  result<std::vector<providers::cluster_record>> list_clusters() override {
    std::vector<providers::cluster_record> out;
    for (const auto& [n, r] : clusters)
      out.push_back(r);
    return out;
  }

  result<void> stop_instances(const std::string& cluster) override {
    calls.push_back("stop " + cluster);
    kill_cluster(cluster);
    for (auto& inst : clusters[cluster].instances)
      inst.state = providers::instance_state::stopped;
    return {};
  }

  result<void> terminate_instances(const std::string& cluster) override {
    calls.push_back("terminate " + cluster);
    kill_cluster(cluster);
    clusters.erase(cluster);
    return {};
  }

  result<std::unique_ptr<providers::node_channel>>
  open_channel(const providers::cluster_record& cluster,
               uint32_t rank) override;

  std::optional<std::vector<providers::machine_capacity>> capacity() override {
    if (!fixed_)
      return std::nullopt;
    providers::machine_capacity m;
    m.name = "fake";
    m.total.cpus = 8;
    m.total.memory_gib = 32;
    m.free = m.total;
    return std::vector<providers::machine_capacity>{m};
  }

private:
  void kill_cluster(const std::string& cluster) {
    for (auto& [pid, p] : processes)
      if (p.cluster == cluster
          && p.state == providers::process_state::running) {
        p.state = providers::process_state::exited;
        p.exit_code = 137;
      }
  }

  std::string name_;
  bool fixed_;
  std::map<std::string, std::deque<caf::error>> failures_;
  int64_t next_pid_ = 1000;

  friend class fake_channel;
};

class fake_channel : public providers::node_channel {
public:
  fake_channel(fake_provider* p, std::string cluster, uint32_t rank)
    : p_(p), cluster_(std::move(cluster)), rank_(rank) {}

  std::string home() const override {
    return "/fake/" + cluster_ + "/" + std::to_string(rank_);
  }
  std::string ip() const override {
    return "10.0.0." + std::to_string(rank_ + 1);
  }

  result<providers::process_handle>
  start(const providers::process_spec& spec) override {
    auto pid = p_->next_pid_++;
    fake_provider::process proc;
    proc.rank = rank_;
    proc.cluster = cluster_;
    proc.script = spec.script;
    proc.env = spec.env;
    proc.log_file = spec.log_file;
    p_->processes[pid] = proc;
    return providers::process_handle{pid, 1, spec.log_file,
                                     spec.log_file + ".exit"};
  }

  result<providers::process_status>
  poll(const providers::process_handle& h) override {
    auto i = p_->processes.find(h.pid);
    if (i == p_->processes.end())
      return providers::process_status{providers::process_state::lost, 0, 0};
    return providers::process_status{i->second.state, i->second.exit_code, 1};
  }

  result<std::optional<providers::process_handle>>
  find_process(const std::string& log_file) override {
    for (const auto& [pid, p] : p_->processes)
      if (p.cluster == cluster_ && p.rank == rank_ && p.log_file == log_file)
        return std::optional<providers::process_handle>{
          providers::process_handle{pid, 1, log_file, log_file + ".exit"}};
    return std::optional<providers::process_handle>{};
  }

  result<providers::log_chunk> read_log(const std::string& file,
                                        uint64_t offset,
                                        size_t max_bytes) override {
    for (const auto& [pid, p] : p_->processes)
      if (p.cluster == cluster_ && p.rank == rank_ && p.log_file == file) {
        providers::log_chunk c;
        if (offset < p.output.size())
          c.data = p.output.substr(offset, max_bytes);
        c.next_offset = offset + c.data.size();
        return c;
      }
    return make_error(errc::not_found, "no log " + file);
  }

  result<void> signal(const providers::process_handle& h, int sig) override {
    auto i = p_->processes.find(h.pid);
    if (i == p_->processes.end())
      return make_error(errc::not_found, "no process");
    i->second.signals.push_back(sig);
    if (i->second.state == providers::process_state::running) {
      i->second.state = providers::process_state::exited;
      i->second.exit_code = 128 + sig;
    }
    return {};
  }

  result<providers::upload_stats> upload(const std::filesystem::path&,
                                         const std::string&) override {
    return providers::upload_stats{};
  }

private:
  fake_provider* p_;
  std::string cluster_;
  uint32_t rank_;
};

inline result<std::unique_ptr<providers::node_channel>>
fake_provider::open_channel(const providers::cluster_record& cluster,
                            uint32_t rank) {
  return std::unique_ptr<providers::node_channel>{
    new fake_channel(this, cluster.cluster, rank)};
}

} // namespace sky::testing
