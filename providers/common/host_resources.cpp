#include "providers/common/host_resources.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <thread>
#include <unistd.h>

#include "providers/common/fs_util.hpp"
#include "providers/common/run_capture.hpp"

namespace sky::providers {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
              return std::tolower(static_cast<unsigned char>(x))
                     == std::tolower(static_cast<unsigned char>(y));
            });
}

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> words;
  size_t pos = 0;
  while (pos < s.size()) {
    auto start = s.find_first_not_of(" -_", pos);
    if (start == std::string_view::npos)
      break;
    auto end = s.find_first_of(" -_", start);
    if (end == std::string_view::npos)
      end = s.size();
    words.push_back(s.substr(start, end - start));
    pos = end;
  }
  return words;
}

std::string upper(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

std::optional<double> parse_double(std::string_view s) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size())
    return std::nullopt;
  return v;
}

} // namespace

std::string canonical_gpu_name(std::string_view model, double memory_gib) {
  auto words = split_words(trim(model));
  // Vendor and product-line words carry no model information.
  while (!words.empty()
         && (iequals(words.front(), "nvidia") || iequals(words.front(), "tesla")
             || iequals(words.front(), "geforce")
             || iequals(words.front(), "quadro")))
    words.erase(words.begin());
  if (words.empty())
    return std::string{trim(model)};
  auto first = upper(words.front());
  if (first == "RTX" && words.size() >= 2) {
    // "RTX 4090" -> RTX4090, "RTX A6000" -> RTXA6000,
    // "RTX 6000 Ada Generation" -> RTX6000-Ada.
    auto name = "RTX" + upper(words[1]);
    if (words.size() >= 3 && iequals(words[2], "ada"))
      name += "-Ada";
    return name;
  }
  if (first == "A100" && memory_gib >= 70)
    return "A100-80GB";
  if (first == "V100" && memory_gib >= 30)
    return "V100-32GB";
  if (first == "H100" && words.size() >= 2 && iequals(words[1], "nvl"))
    return "H100-NVL";
  return first;
}

result<std::vector<gpu_device>> parse_nvidia_smi(std::string_view output) {
  std::vector<gpu_device> devices;
  size_t line_no = 0;
  while (!output.empty()) {
    auto nl = output.find('\n');
    auto line = trim(output.substr(0, nl));
    output = nl == std::string_view::npos ? std::string_view{}
                                          : output.substr(nl + 1);
    ++line_no;
    if (line.empty())
      continue;
    auto comma = line.rfind(',');
    if (comma == std::string_view::npos)
      return make_error(errc::invalid_argument,
                        "nvidia-smi output line " + std::to_string(line_no)
                          + " is not 'name, memory': " + std::string{line},
                        "run nvidia-smi --query-gpu=name,memory.total "
                        "--format=csv,noheader by hand");
    gpu_device dev;
    dev.model = std::string{trim(line.substr(0, comma))};
    auto mem = trim(line.substr(comma + 1));
    // "81920 MiB"; "[N/A]" on devices that do not report it.
    auto space = mem.find(' ');
    auto number = mem.substr(0, space);
    auto unit = space == std::string_view::npos ? std::string_view{}
                                                : trim(mem.substr(space));
    if (auto v = parse_double(number)) {
      if (unit.empty() || iequals(unit, "MiB"))
        dev.memory_gib = *v / 1024.0;
      else if (iequals(unit, "GiB"))
        dev.memory_gib = *v;
      else
        return make_error(errc::invalid_argument, "nvidia-smi output line "
                                                    + std::to_string(line_no)
                                                    + ": unknown memory unit '"
                                                    + std::string{unit} + "'");
    }
    if (dev.model.empty())
      return make_error(errc::invalid_argument, "nvidia-smi output line "
                                                  + std::to_string(line_no)
                                                  + " has no GPU name");
    dev.name = canonical_gpu_name(dev.model, dev.memory_gib);
    devices.push_back(std::move(dev));
  }
  return devices;
}

result<std::vector<gpu_device>>
detect_nvidia_gpus(const std::string& nvidia_smi,
                   std::chrono::milliseconds timeout) {
  auto out = local_detail::run_capture(
    {nvidia_smi, "--query-gpu=name,memory.total", "--format=csv,noheader"},
    timeout);
  if (!out) {
    if (describe(out.error()).code == errc::not_found)
      return std::vector<gpu_device>{};
    return out.error();
  }
  if (out->exit_code != 0)
    return make_error(errc::fatal,
                      nvidia_smi + " exited with code "
                        + std::to_string(out->exit_code)
                        + " while listing GPUs",
                      "fix the NVIDIA driver, or set the local GPUs in the "
                      "configuration to skip detection");
  return parse_nvidia_smi(out->out);
}

std::optional<double> parse_meminfo_total_gib(std::string_view meminfo) {
  while (!meminfo.empty()) {
    auto nl = meminfo.find('\n');
    auto line = meminfo.substr(0, nl);
    meminfo = nl == std::string_view::npos ? std::string_view{}
                                           : meminfo.substr(nl + 1);
    if (line.substr(0, 9) != "MemTotal:")
      continue;
    auto rest = trim(line.substr(9));
    auto space = rest.find(' ');
    auto number = rest.substr(0, space);
    if (!is_digits(number))
      return std::nullopt;
    auto kib = parse_double(number);
    if (!kib)
      return std::nullopt;
    return *kib / (1024.0 * 1024.0);
  }
  return std::nullopt;
}

double host_cpu_count() {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (n > 0)
    return static_cast<double>(n);
  auto hc = std::thread::hardware_concurrency();
  return hc > 0 ? static_cast<double>(hc) : 1.0;
}

double host_memory_gib() {
  auto text = local_detail::read_file("/proc/meminfo");
  if (!text || !*text)
    return 0;
  return parse_meminfo_total_gib(**text).value_or(0.0);
}

} // namespace sky::providers
