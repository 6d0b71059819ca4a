#include "providers/ssh/host_probe.hpp"

#include <charconv>

namespace sky::providers::ssh {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty()
         && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

} // namespace

std::string_view probe_script() {
  // nvidia-smi: absent means no GPUs (status 127 is printed and ignored); a
  // present one that fails is reported, since a broken driver on a GPU
  // machine is worth telling the user about.
  return R"PROBE(echo "home $(cd && pwd -P)"
echo "cpus $(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
grep -m1 '^MemTotal:' /proc/meminfo
if command -v nvidia-smi >/dev/null 2>&1; then
  out=$(timeout 20 nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>&1)
  echo "gpu-status $?"
  echo "gpus:"
  printf '%s\n' "$out"
else
  echo "gpu-status 127"
fi
)PROBE";
}

result<probe_result> parse_probe_output(std::string_view output) {
  probe_result out;
  bool have_cpus = false;
  bool have_mem = false;
  int gpu_status = 127;
  std::string gpu_text;
  bool in_gpus = false;
  size_t pos = 0;
  while (pos < output.size()) {
    auto end = output.find('\n', pos);
    if (end == std::string_view::npos)
      end = output.size();
    auto line = trim(output.substr(pos, end - pos));
    pos = end + 1;
    if (in_gpus) {
      if (!line.empty()) {
        gpu_text += line;
        gpu_text += '\n';
      }
      continue;
    }
    if (line.rfind("home ", 0) == 0) {
      out.home = std::string{line.substr(5)};
    } else if (line.rfind("cpus ", 0) == 0) {
      auto v = trim(line.substr(5));
      long n = 0;
      auto r = std::from_chars(v.data(), v.data() + v.size(), n);
      if (r.ec != std::errc{} || r.ptr != v.data() + v.size() || n <= 0)
        return make_error(
          errc::fatal, "the host reported its CPUs as '" + std::string{v} + "'",
          "check that nproc works on the host");
      out.cpus = static_cast<double>(n);
      have_cpus = true;
    } else if (line.rfind("MemTotal:", 0) == 0) {
      auto gib = parse_meminfo_total_gib(line);
      if (!gib)
        return make_error(errc::fatal,
                          "the host's /proc/meminfo line does not parse: "
                            + std::string{line},
                          "skyd's SSH pools need Linux hosts");
      out.memory_gib = *gib;
      have_mem = true;
    } else if (line.rfind("gpu-status ", 0) == 0) {
      auto v = trim(line.substr(11));
      std::from_chars(v.data(), v.data() + v.size(), gpu_status);
    } else if (line == "gpus:") {
      in_gpus = true;
    }
  }
  if (!have_cpus)
    return make_error(errc::fatal, "the host did not report its CPUs",
                      "check that nproc (coreutils) is installed on it");
  if (out.home.empty() || out.home.front() != '/')
    return make_error(errc::fatal,
                      "the host did not report the login user's home "
                      "directory",
                      "the user in ssh_node_pools.yaml needs a home "
                      "directory on the host");
  if (!have_mem)
    return make_error(errc::fatal, "the host did not report its memory",
                      "skyd's SSH pools need Linux hosts (/proc/meminfo)");
  if (gpu_status == 127)
    return out;
  if (gpu_status != 0) {
    out.gpu_problem = "nvidia-smi failed (exit " + std::to_string(gpu_status)
                      + "): " + std::string{trim(gpu_text)}
                      + "; counting no GPUs on this host (fix the driver)";
    return out;
  }
  auto devices = parse_nvidia_smi(gpu_text);
  if (!devices) {
    out.gpu_problem
      = describe(devices.error()).message + "; counting no GPUs on this host";
    return out;
  }
  out.gpu_devices = *devices;
  for (const auto& d : out.gpu_devices)
    out.gpus[d.name] += 1;
  return out;
}

} // namespace sky::providers::ssh
