#include "skyctl/task_flags.hpp"

namespace sky::cli {

namespace {

constexpr const char* group = "Task options (override the YAML)";

// `--flag VALUE` into an optional string.
void text_flag(CLI::App* cmd, const std::string& names,
               std::optional<std::string>& target, const std::string& help) {
  cmd
    ->add_option_function<std::string>(
      names, [&target](const std::string& v) { target = v; }, help)
    ->group(group);
}

// `--flag VALUE`, repeatable; each occurrence takes exactly one value so
// that a task YAML after it is not swallowed.
void list_flag(CLI::App* cmd, const std::string& names,
               std::vector<std::string>& target, const std::string& help) {
  cmd->add_option(names, target, help)->allow_extra_args(false)->group(group);
}

} // namespace

void add_task_flags(CLI::App* cmd, task::task_overrides& f, task_flag_set set) {
  const bool launch = set == task_flag_set::launch;
  if (launch) {
    text_flag(cmd, "--infra", f.infra,
              "where to run: cloud[/region[/zone]], local, ssh/POOL, "
              "k8s/CONTEXT");
    text_flag(cmd, "--cloud", f.cloud, "cloud (legacy; prefer --infra)");
    text_flag(cmd, "--region", f.region, "region (legacy; prefer --infra)");
    text_flag(cmd, "--zone", f.zone, "zone (legacy; prefer --infra)");
  }
  text_flag(cmd, "--gpus", f.gpus,
            "accelerators per node: A100, A100:8, {A100:8,H100:8} (cheapest) "
            "or [H100:8,A100:8] (in order)");
  text_flag(cmd, "--cpus", f.cpus, "vCPUs per node: 4 (exactly) or 4+");
  text_flag(cmd, "--memory", f.memory,
            "memory per node in GiB: 32, 32+, or 4x (per vCPU)");
  if (launch)
    text_flag(cmd, "--instance-type", f.instance_type,
              "instance type, e.g. p3.2xlarge");
  text_flag(cmd, "--num-nodes", f.num_nodes, "number of nodes");
  if (launch) {
    cmd
      ->add_flag_function(
        "--use-spot,!--no-use-spot", [&f](int64_t n) { f.use_spot = n > 0; },
        "use (or do not use) spot instances")
      ->group(group);
    text_flag(cmd, "--disk-size", f.disk_size, "OS disk: 256 (GB) or 1TB");
    text_flag(cmd, "--image-id", f.image_id,
              "machine image, e.g. docker:ubuntu:22.04");
    list_flag(cmd, "--ports", f.ports,
              "ports to open: 8080, 9000-9010 or 8080,8081 (repeatable)");
  }
  list_flag(cmd, "--env", f.envs,
            "environment variable K=V, or K to take it from your "
            "environment (repeatable)");
  text_flag(cmd, "--env-file", f.env_file,
            "dotenv file of environment variables (--env wins)");
  list_flag(cmd, "--secret", f.secrets,
            "secret K=V, or K from your environment; redacted everywhere "
            "(repeatable)");
  text_flag(cmd, "--workdir", f.workdir,
            "local directory synced to the nodes (relative to the current "
            "directory)");
  text_flag(cmd, "-n,--name", f.name, "task name");
}

} // namespace sky::cli
