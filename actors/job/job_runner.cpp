#include "actors/job/job_runner.hpp"

#include <csignal>
#include <filesystem>

#include <nlohmann/json.hpp>

namespace sky::actors {

namespace {

result<std::unique_ptr<providers::node_channel>> channel(const job_context& ctx,
                                                         uint32_t rank) {
  return ctx.provider->open_channel(*ctx.record, rank);
}

std::string node_ip(const job_context& ctx, uint32_t rank) {
  for (const auto& inst : ctx.record->instances)
    if (inst.rank == rank)
      return inst.internal_ip.empty() ? inst.external_ip : inst.internal_ip;
  return "127.0.0.1";
}

// Where a file mount lands on a node. On `local` every node is a sandbox
// of this host, so absolute targets are mapped inside it rather than
// written over the host's own paths.
std::string mount_target(const job_context& ctx, const std::string& target) {
  std::string t = target;
  if (t.rfind("~/", 0) == 0)
    return t.substr(2);
  if (ctx.provider->name() == "local" && !t.empty() && t.front() == '/')
    return t.substr(1);
  return t;
}

bool is_local_path(const std::string& source) {
  return source.find("://") == std::string::npos;
}

} // namespace

std::string_view to_string(job_phase p) noexcept {
  return p == job_phase::setup ? "setup" : "run";
}

std::string job_log_file(uint64_t job_id, job_phase phase, uint32_t rank) {
  return ".sky/jobs/" + std::to_string(job_id) + "/"
         + std::string{to_string(phase)} + "-rank" + std::to_string(rank)
         + ".log";
}

std::map<std::string, std::string>
job_environment(const job_context& ctx, job_phase phase, size_t index) {
  std::map<std::string, std::string> env;
  for (const auto& v : ctx.task.envs)
    if (v.value)
      env[v.name] = *v.value;
  for (const auto& v : ctx.task.secrets)
    if (v.value)
      env[v.name] = *v.value;
  std::string ips;
  for (auto rank : ctx.ranks)
    ips += (ips.empty() ? "" : "\n") + node_ip(ctx, rank);
  nlohmann::json info{{"cluster_name", ctx.cluster},
                      {"cloud", ctx.record->provider},
                      {"region", ctx.record->region},
                      {"zone", ctx.record->zone},
                      {"num_nodes", ctx.ranks.size()}};
  // SkyPilot names the setup variables apart, since setup runs on every
  // node of the cluster before the job's run.
  const std::string prefix
    = phase == job_phase::setup ? "SKYPILOT_SETUP_" : "SKYPILOT_";
  env[prefix + "NODE_RANK"] = std::to_string(index);
  env[prefix + "NODE_IPS"] = ips;
  env["SKYPILOT_NUM_NODES"] = std::to_string(ctx.ranks.size());
  env["SKYPILOT_NUM_GPUS_PER_NODE"] = std::to_string(ctx.gpus_per_node);
  env["SKYPILOT_TASK_ID"] = ctx.task_id;
  env["SKYPILOT_CLUSTER_INFO"] = info.dump();
  env["SKYPILOT_CLUSTER_NAME"] = ctx.cluster;
  env["SKYPILOT_JOB_ID"] = std::to_string(ctx.job_id);
  if (index < ctx.cuda_visible_devices.size()
      && !ctx.cuda_visible_devices[index].empty())
    env["CUDA_VISIBLE_DEVICES"] = ctx.cuda_visible_devices[index];
  return env;
}

result<void> sync_job_files(const job_context& ctx) {
  for (auto rank : ctx.ranks) {
    auto ch = channel(ctx, rank);
    if (!ch)
      return ch.error();
    if (ctx.task.workdir && !ctx.task.workdir->path.empty()) {
      auto up = (*ch)->upload(ctx.task.workdir->path, "sky_workdir");
      if (!up)
        return up.error();
    }
    for (const auto& m : ctx.task.file_mounts) {
      if (!is_local_path(m.source) || m.source.empty())
        return make_error(errc::unsupported,
                          "file_mounts: " + m.target + " <- " + m.source
                            + ": only local directories can be mounted yet",
                          "copy the data in setup instead");
      if (!std::filesystem::is_directory(m.source))
        return make_error(errc::unsupported,
                          "file_mounts: " + m.source
                            + " is not a directory; only local directories "
                              "can be mounted yet",
                          "put the file in a directory and mount that");
      auto up = (*ch)->upload(m.source, mount_target(ctx, m.target));
      if (!up)
        return up.error();
    }
  }
  return {};
}

result<std::vector<process_ref>> start_phase(const job_context& ctx,
                                             job_phase phase) {
  const auto& script
    = phase == job_phase::setup ? ctx.task.setup : ctx.task.run;
  std::vector<process_ref> started;
  std::string cwd = ctx.task.workdir ? "sky_workdir" : "";
  for (size_t i = 0; i < ctx.ranks.size(); ++i) {
    auto rank = ctx.ranks[i];
    auto ch = channel(ctx, rank);
    if (!ch) {
      signal_processes(ctx, started, SIGKILL);
      return ch.error();
    }
    providers::process_spec spec;
    spec.name
      = std::string{to_string(phase)} + "-" + std::to_string(ctx.job_id);
    spec.script = script.value_or("");
    spec.env = job_environment(ctx, phase, i);
    spec.cwd = cwd;
    spec.log_file = job_log_file(ctx.job_id, phase, rank);
    auto handle = (*ch)->start(spec);
    if (!handle) {
      signal_processes(ctx, started, SIGKILL);
      return handle.error();
    }
    started.push_back({rank, handle->pid, handle->start_ticks, handle->log_file,
                       handle->exit_file});
  }
  return started;
}

result<std::vector<providers::process_status>>
poll_processes(const job_context& ctx, const std::vector<process_ref>& procs) {
  std::vector<providers::process_status> out;
  for (const auto& p : procs) {
    auto ch = channel(ctx, p.rank);
    if (!ch)
      return ch.error();
    auto st = (*ch)->poll({p.pid, p.start_ticks, p.log_file, p.exit_file});
    if (!st)
      return st.error();
    out.push_back(*st);
  }
  return out;
}

result<bool> watch_processes(const job_context& ctx,
                             const std::vector<process_ref>& procs,
                             const std::function<void()>& notify) {
  bool all = true;
  for (const auto& p : procs) {
    auto ch = channel(ctx, p.rank);
    if (!ch)
      return ch.error();
    all = (*ch)->watch_exit({p.pid, p.start_ticks, p.log_file, p.exit_file},
                            notify)
          && all;
  }
  return all;
}

void signal_processes(const job_context& ctx,
                      const std::vector<process_ref>& procs, int sig) {
  for (const auto& p : procs)
    if (auto ch = channel(ctx, p.rank))
      (void) (*ch)->signal({p.pid, p.start_ticks, p.log_file, p.exit_file},
                           sig);
}

result<providers::log_chunk> read_job_log(const job_context& ctx,
                                          const std::string& log_file,
                                          uint32_t rank, uint64_t offset,
                                          size_t max_bytes) {
  auto ch = channel(ctx, rank);
  if (!ch)
    return ch.error();
  return (*ch)->read_log(log_file, offset, max_bytes);
}

} // namespace sky::actors
