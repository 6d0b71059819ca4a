#include "providers/common/fs_util.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "providers/provider.hpp"

namespace sky::providers::local_detail {

namespace {

result<void> write_all(int fd, const std::string& data,
                       const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return make_error(errc::fatal, errno_text("cannot write " + path, errno),
                        "check free disk space and permissions");
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

} // namespace

result<void> write_file_atomic(const std::filesystem::path& path,
                               const std::string& content, int mode) {
  // Unique per process and call, so concurrent writers of the same target
  // never share a temporary file; the last rename wins.
  static std::atomic<uint64_t> counter{0};
  auto tmp = path;
  tmp += ".tmp." + std::to_string(::getpid()) + "."
         + std::to_string(counter.fetch_add(1));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0)
    return make_error(errc::fatal,
                      errno_text("cannot create " + tmp.string(), errno),
                      "check that the directory exists and is writable");
  auto written = write_all(fd, content, tmp.string());
  if (written && ::fsync(fd) != 0)
    written = make_error(errc::fatal,
                         errno_text("cannot flush " + tmp.string(), errno));
  ::close(fd);
  if (written && ::rename(tmp.c_str(), path.c_str()) != 0)
    written = make_error(errc::fatal, errno_text("cannot rename " + tmp.string()
                                                   + " to " + path.string(),
                                                 errno));
  if (!written)
    ::unlink(tmp.c_str());
  return written;
}

result<std::optional<std::string>>
read_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return std::optional<std::string>{};
    return make_error(errc::fatal,
                      errno_text("cannot open " + path.string(), errno));
  }
  std::string out;
  char buf[16384];
  while (true) {
    auto n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return make_error(errc::fatal,
                        errno_text("cannot read " + path.string(), err));
    }
    if (n == 0)
      break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return std::optional<std::string>{std::move(out)};
}

int64_t now_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

std::string errno_text(const std::string& what, int err) {
  return what + ": " + std::strerror(err);
}

std::filesystem::path resolve_under(const std::filesystem::path& base,
                                    const std::string& p) {
  std::filesystem::path path{p};
  if (path.is_absolute())
    return path.lexically_normal();
  return (base / path).lexically_normal();
}

bool is_safe_name(const std::string& name) {
  if (name.empty() || name.size() > 200 || name[0] == '.')
    return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

result<void> check_cluster_dir_name(const std::string& who,
                                    const std::string& cluster,
                                    failure_scope scope) {
  if (is_safe_name(cluster))
    return {};
  return provider_error(errc::invalid_argument, scope,
                        who + ": cluster name '" + cluster
                          + "' cannot name a directory",
                        "use letters, digits, '-', '_' and '.', not starting "
                        "with '.'");
}

} // namespace sky::providers::local_detail
