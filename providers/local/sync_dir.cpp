#include "providers/local/sync_dir.hpp"

#include <cerrno>
#include <fcntl.h>
#include <set>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "providers/common/fs_util.hpp"

namespace sky::providers {

namespace {

namespace fs = std::filesystem;
using local_detail::errno_text;

caf::error io_error(const std::string& what, int err) {
  return make_error(errc::fatal, "upload: " + errno_text(what, err),
                    "check permissions and free space on the node");
}

bool skipped(const std::string& name) {
  return name == ".git";
}

std::set<std::string> list_names(const fs::path& dir, std::error_code& ec) {
  std::set<std::string> names;
  for (fs::directory_iterator it{dir, ec}, end; !ec && it != end;
       it.increment(ec))
    names.insert(it->path().filename().string());
  return names;
}

bool same_mtime(const struct stat& a, const struct stat& b) {
  return a.st_mtim.tv_sec == b.st_mtim.tv_sec
         && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

result<void> set_mtime(const fs::path& p, const struct stat& src,
                       bool is_link) {
  struct timespec times[2] = {src.st_atim, src.st_mtim};
  int flags = is_link ? AT_SYMLINK_NOFOLLOW : 0;
  if (::utimensat(AT_FDCWD, p.c_str(), times, flags) != 0)
    return io_error("cannot set the mtime of " + p.string(), errno);
  return {};
}

/// Counts the files (non-directories) under `p`, `p` included, then
/// removes it.
result<uint64_t> remove_counting(const fs::path& p) {
  uint64_t files = 0;
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(p, ec))) {
    for (fs::recursive_directory_iterator it{p, ec}, end; !ec && it != end;
         it.increment(ec))
      if (!it->is_directory(ec) || it->is_symlink(ec))
        ++files;
  } else {
    files = 1;
  }
  // A read-only directory cannot lose its entries: make it writable first.
  ::chmod(p.c_str(), 0700);
  fs::remove_all(p, ec);
  if (ec)
    return io_error("cannot delete " + p.string(), ec.value());
  return files;
}

result<void> copy_contents(int in, int out, const fs::path& src) {
  // copy_file_range lets the kernel (or the file system) do the copy;
  // fall back to read/write where it is not supported.
  while (true) {
    auto n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
    if (n == 0)
      return {};
    if (n > 0)
      continue;
    if (errno == EINTR)
      continue;
    if (errno != EXDEV && errno != ENOSYS && errno != EINVAL
        && errno != EOPNOTSUPP)
      return io_error("cannot copy " + src.string(), errno);
    break;
  }
  char buf[65536];
  while (true) {
    auto n = ::read(in, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return io_error("cannot read " + src.string(), errno);
    if (n == 0)
      return {};
    ssize_t done = 0;
    while (done < n) {
      auto w = ::write(out, buf + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return io_error("cannot write a copy of " + src.string(), errno);
      done += w;
    }
  }
}

fs::path temp_beside(const fs::path& target) {
  return target.parent_path()
         / ("." + target.filename().string() + ".sky-upload-tmp");
}

result<void> copy_file(const fs::path& src, const struct stat& st,
                       const fs::path& dst) {
  int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return io_error("cannot open " + src.string(), errno);
  auto tmp = temp_beside(dst);
  ::unlink(tmp.c_str());
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    int err = errno;
    ::close(in);
    return io_error("cannot create " + tmp.string(), err);
  }
  auto copied = copy_contents(in, out, src);
  ::close(in);
  if (copied && ::fchmod(out, st.st_mode & 07777) != 0)
    copied = io_error("cannot set the permissions of " + tmp.string(), errno);
  struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (copied && ::futimens(out, times) != 0)
    copied = io_error("cannot set the mtime of " + tmp.string(), errno);
  ::close(out);
  if (copied && ::rename(tmp.c_str(), dst.c_str()) != 0)
    copied = io_error("cannot rename " + tmp.string(), errno);
  if (!copied)
    ::unlink(tmp.c_str());
  return copied;
}

result<void> copy_symlink(const fs::path& src, const struct stat& st,
                          const fs::path& dst) {
  std::error_code ec;
  auto target = fs::read_symlink(src, ec);
  if (ec)
    return io_error("cannot read link " + src.string(), ec.value());
  auto tmp = temp_beside(dst);
  ::unlink(tmp.c_str());
  if (::symlink(target.c_str(), tmp.c_str()) != 0)
    return io_error("cannot create link " + tmp.string(), errno);
  if (::rename(tmp.c_str(), dst.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return io_error("cannot rename " + tmp.string(), err);
  }
  return set_mtime(dst, st, true);
}

class syncer {
public:
  upload_stats stats;

  result<void> sync_dir(const fs::path& src, const fs::path& dst) {
    std::error_code ec;
    auto names = list_names(src, ec);
    if (ec)
      return io_error("cannot list " + src.string(), ec.value());
    for (const auto& name : names) {
      if (skipped(name))
        continue;
      if (auto ok = sync_entry(src / name, dst / name); !ok)
        return ok;
    }
    auto existing = list_names(dst, ec);
    if (ec)
      return io_error("cannot list " + dst.string(), ec.value());
    for (const auto& name : existing) {
      if (skipped(name) || names.count(name) > 0)
        continue;
      auto removed = remove_counting(dst / name);
      if (!removed)
        return removed.error();
      stats.files_deleted += *removed;
    }
    return {};
  }

private:
  result<void> sync_entry(const fs::path& src, const fs::path& dst) {
    struct stat st {};
    if (::lstat(src.c_str(), &st) != 0)
      return io_error("cannot stat " + src.string(), errno);
    struct stat dt {};
    bool have_dst = ::lstat(dst.c_str(), &dt) == 0;
    bool src_dir = S_ISDIR(st.st_mode);
    // Replace an entry of the other kind (a file where a directory now is,
    // or the reverse).
    if (have_dst
        && (src_dir != S_ISDIR(dt.st_mode)
            || (S_ISLNK(st.st_mode) != S_ISLNK(dt.st_mode)))) {
      auto removed = remove_counting(dst);
      if (!removed)
        return removed.error();
      stats.files_deleted += *removed;
      have_dst = false;
    }
    if (src_dir)
      return sync_subdir(src, st, dst, have_dst);
    if (S_ISREG(st.st_mode)) {
      if (have_dst && S_ISREG(dt.st_mode) && dt.st_size == st.st_size
          && same_mtime(st, dt)) {
        ++stats.files_unchanged;
        if ((dt.st_mode & 07777) != (st.st_mode & 07777)
            && ::chmod(dst.c_str(), st.st_mode & 07777) != 0)
          return io_error("cannot set the permissions of " + dst.string(),
                          errno);
        return {};
      }
      if (auto ok = copy_file(src, st, dst); !ok)
        return ok;
      ++stats.files_copied;
      stats.bytes_copied += static_cast<uint64_t>(st.st_size);
      return {};
    }
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec1, ec2;
      if (have_dst && fs::read_symlink(src, ec1) == fs::read_symlink(dst, ec2)
          && !ec1 && !ec2) {
        ++stats.files_unchanged;
        return {};
      }
      if (auto ok = copy_symlink(src, st, dst); !ok)
        return ok;
      ++stats.files_copied;
      return {};
    }
    // Sockets, FIFOs, devices: not content, not copied.
    return {};
  }

  result<void> sync_subdir(const fs::path& src, const struct stat& st,
                           const fs::path& dst, bool have_dst) {
    // Writable by us while it is filled; the source's bits are set after.
    if (!have_dst && ::mkdir(dst.c_str(), 0700) != 0)
      return io_error("cannot create " + dst.string(), errno);
    if (have_dst)
      ::chmod(dst.c_str(), (st.st_mode & 07777) | 0700);
    if (auto ok = sync_dir(src, dst); !ok)
      return ok;
    if (::chmod(dst.c_str(), st.st_mode & 07777) != 0)
      return io_error("cannot set the permissions of " + dst.string(), errno);
    // Last, since filling the directory changed its mtime.
    return set_mtime(dst, st, false);
  }
};

bool inside(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i)
    if (i == inner.end() || *i != *o)
      return false;
  return true;
}

} // namespace

result<upload_stats> sync_directory(const fs::path& src, const fs::path& dst) {
  std::error_code ec;
  if (!fs::is_directory(src, ec))
    return make_error(errc::invalid_argument,
                      "upload: " + src.string() + " is not a directory",
                      "give the path of a local directory");
  auto src_real = fs::weakly_canonical(src, ec);
  auto dst_real = fs::weakly_canonical(dst, ec);
  if (inside(dst_real, src_real) || inside(src_real, dst_real))
    return make_error(errc::invalid_argument,
                      "upload: " + src_real.string() + " and "
                        + dst_real.string() + " are nested",
                      "upload to a directory outside the source");
  fs::create_directories(dst, ec);
  if (ec)
    return io_error("cannot create " + dst.string(), ec.value());
  if (!fs::is_directory(dst, ec))
    return make_error(errc::invalid_argument,
                      "upload: " + dst.string()
                        + " exists and is not a "
                          "directory",
                      "remove it or upload elsewhere");
  syncer s;
  if (auto ok = s.sync_dir(src_real, dst); !ok)
    return ok.error();
  return s.stats;
}

} // namespace sky::providers
