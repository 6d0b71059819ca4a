#include "providers/ssh/sftp_sync.hpp"

#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include "providers/common/fs_util.hpp"

namespace sky::providers::ssh {

namespace {

namespace fs = std::filesystem;

struct remote_entry {
  uint8_t type = 0; // SSH_FILEXFER_TYPE_*
  uint64_t size = 0;
  uint32_t mtime = 0;
  uint32_t permissions = 0;
};

class syncer {
public:
  syncer(sftp_session sftp, std::string host)
    : sftp_(sftp), host_(std::move(host)) {}

  upload_stats stats;

  caf::error fail(const std::string& what, const std::string& path) {
    return make_error(errc::fatal,
                      "ssh: upload to " + host_ + ": " + what + " " + path
                        + ": " + ssh_get_error(sftp_->session) + " (sftp "
                        + std::to_string(sftp_get_error(sftp_)) + ")",
                      "check permissions and free space on the host");
  }

  /// mkdir -p over SFTP.
  caf::error make_dirs(const std::string& dir) {
    std::string path;
    size_t pos = 0;
    while (pos < dir.size()) {
      auto next = dir.find('/', pos + 1);
      if (next == std::string::npos)
        next = dir.size();
      path = dir.substr(0, next);
      pos = next;
      if (path.empty() || path == "/")
        continue;
      sftp_attributes a = sftp_stat(sftp_, path.c_str());
      if (a != nullptr) {
        bool is_dir = a->type == SSH_FILEXFER_TYPE_DIRECTORY;
        sftp_attributes_free(a);
        if (is_dir)
          continue;
        return make_error(errc::fatal,
                          "ssh: upload to " + host_ + ": " + path
                            + " exists and is not a directory",
                          "remove it on the host or choose another target");
      }
      if (sftp_mkdir(sftp_, path.c_str(), 0755) != SSH_OK)
        return fail("cannot create", path);
    }
    return {};
  }

  result<std::map<std::string, remote_entry>> list(const std::string& dir) {
    std::map<std::string, remote_entry> out;
    sftp_dir d = sftp_opendir(sftp_, dir.c_str());
    if (d == nullptr)
      return fail("cannot list", dir);
    while (sftp_attributes a = sftp_readdir(sftp_, d)) {
      std::string name = a->name != nullptr ? a->name : "";
      if (name != "." && name != "..") {
        remote_entry e;
        e.type = a->type;
        e.size = a->size;
        e.mtime = a->mtime;
        e.permissions = a->permissions;
        out[name] = e;
      }
      sftp_attributes_free(a);
    }
    bool eof = sftp_dir_eof(d) != 0;
    sftp_closedir(d);
    if (!eof)
      return fail("cannot list", dir);
    return out;
  }

  caf::error remove_tree(const std::string& path, const remote_entry& e) {
    if (e.type == SSH_FILEXFER_TYPE_DIRECTORY) {
      auto children = list(path);
      if (!children)
        return children.error();
      for (const auto& [name, child] : *children)
        if (auto err = remove_tree(path + "/" + name, child))
          return err;
      if (sftp_rmdir(sftp_, path.c_str()) != SSH_OK)
        return fail("cannot remove", path);
      return {};
    }
    if (sftp_unlink(sftp_, path.c_str()) != SSH_OK)
      return fail("cannot remove", path);
    ++stats.files_deleted;
    return {};
  }

  caf::error copy_file(const fs::path& src, const struct stat& st,
                       const std::string& dst) {
    int fd = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return make_error(errc::fatal, local_detail::errno_text(
                                       "cannot read " + src.string(), errno));
    auto tmp = dst + ".skyd-upload." + std::to_string(::getpid());
    sftp_file f
      = sftp_open(sftp_, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (f == nullptr) {
      ::close(fd);
      return fail("cannot create", tmp);
    }
    char buf[1 << 15];
    uint64_t copied = 0;
    caf::error err;
    while (true) {
      auto n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        err = make_error(errc::fatal, local_detail::errno_text(
                                        "cannot read " + src.string(), errno));
        break;
      }
      if (n == 0)
        break;
      size_t off = 0;
      while (off < static_cast<size_t>(n)) {
        auto w = sftp_write(f, buf + off, static_cast<size_t>(n) - off);
        if (w <= 0) {
          err = fail("cannot write", tmp);
          break;
        }
        off += static_cast<size_t>(w);
      }
      if (err)
        break;
      copied += static_cast<uint64_t>(n);
    }
    ::close(fd);
    sftp_close(f);
    if (!err && sftp_chmod(sftp_, tmp.c_str(), st.st_mode & 07777) != SSH_OK)
      err = fail("cannot set permissions of", tmp);
    struct timeval times[2];
    times[0].tv_sec = st.st_atim.tv_sec;
    times[0].tv_usec = 0;
    times[1].tv_sec = st.st_mtim.tv_sec;
    times[1].tv_usec = 0;
    if (!err && sftp_utimes(sftp_, tmp.c_str(), times) != SSH_OK)
      err = fail("cannot set the mtime of", tmp);
    if (!err && sftp_rename(sftp_, tmp.c_str(), dst.c_str()) != SSH_OK) {
      // Servers without posix-rename refuse to replace a file.
      sftp_unlink(sftp_, dst.c_str());
      if (sftp_rename(sftp_, tmp.c_str(), dst.c_str()) != SSH_OK)
        err = fail("cannot rename into place", dst);
    }
    if (err) {
      sftp_unlink(sftp_, tmp.c_str());
      return err;
    }
    ++stats.files_copied;
    stats.bytes_copied += copied;
    return {};
  }

  caf::error sync(const fs::path& src, const std::string& dst) {
    auto remote = list(dst);
    if (!remote)
      return remote.error();
    std::error_code ec;
    std::map<std::string, bool> seen;
    for (fs::directory_iterator it{src, ec}, end; !ec && it != end;
         it.increment(ec)) {
      auto name = it->path().filename().string();
      if (name == ".git")
        continue;
      struct stat st {};
      if (::lstat(it->path().c_str(), &st) != 0)
        continue; // vanished meanwhile
      auto target = dst + "/" + name;
      auto r = remote->find(name);
      const remote_entry* have = r == remote->end() ? nullptr : &r->second;
      if (S_ISREG(st.st_mode)) {
        seen[name] = true;
        if (have != nullptr && have->type == SSH_FILEXFER_TYPE_REGULAR
            && have->size == static_cast<uint64_t>(st.st_size)
            && have->mtime == static_cast<uint32_t>(st.st_mtim.tv_sec)) {
          ++stats.files_unchanged;
          continue;
        }
        if (have != nullptr && have->type == SSH_FILEXFER_TYPE_DIRECTORY)
          if (auto err = remove_tree(target, *have))
            return err;
        if (auto err = copy_file(it->path(), st, target))
          return err;
      } else if (S_ISDIR(st.st_mode)) {
        seen[name] = true;
        if (have != nullptr && have->type != SSH_FILEXFER_TYPE_DIRECTORY) {
          if (auto err = remove_tree(target, *have))
            return err;
          have = nullptr;
        }
        if (have == nullptr
            && sftp_mkdir(sftp_, target.c_str(), st.st_mode & 07777) != SSH_OK)
          return fail("cannot create", target);
        if (auto err = sync(it->path(), target))
          return err;
        sftp_chmod(sftp_, target.c_str(), st.st_mode & 07777);
      } else if (S_ISLNK(st.st_mode)) {
        seen[name] = true;
        auto link = fs::read_symlink(it->path(), ec);
        if (ec)
          return make_error(errc::fatal, "cannot read the link "
                                           + it->path().string() + ": "
                                           + ec.message());
        if (have != nullptr && have->type == SSH_FILEXFER_TYPE_SYMLINK) {
          char* cur = sftp_readlink(sftp_, target.c_str());
          bool same = cur != nullptr && link.string() == cur;
          ssh_string_free_char(cur);
          if (same) {
            ++stats.files_unchanged;
            continue;
          }
        }
        if (have != nullptr)
          if (auto err = remove_tree(target, *have))
            return err;
        if (sftp_symlink(sftp_, link.c_str(), target.c_str()) != SSH_OK)
          return fail("cannot create the link", target);
        ++stats.files_copied;
      }
      // Sockets, FIFOs and devices are not files to ship.
    }
    if (ec)
      return make_error(errc::fatal,
                        "cannot list " + src.string() + ": " + ec.message());
    for (const auto& [name, e] : *remote)
      if (name != ".git" && !seen.count(name))
        if (auto err = remove_tree(dst + "/" + name, e))
          return err;
    return {};
  }

private:
  sftp_session sftp_;
  std::string host_;
};

} // namespace

result<upload_stats> sftp_upload(sftp_session sftp, const fs::path& local_dir,
                                 const std::string& remote_dir,
                                 const std::string& host) {
  std::error_code ec;
  if (!fs::is_directory(local_dir, ec))
    return make_error(errc::invalid_argument,
                      "upload source " + local_dir.string()
                        + " is not a directory",
                      "give a directory (workdir or file_mounts source)");
  if (remote_dir.empty() || remote_dir.front() != '/')
    return make_error(errc::invalid_argument,
                      "upload target '" + remote_dir + "' is not absolute");
  syncer s{sftp, host};
  if (auto err = s.make_dirs(remote_dir))
    return err;
  if (auto err = s.sync(local_dir, remote_dir))
    return err;
  return s.stats;
}

result<log_chunk> sftp_read_range(sftp_session sftp, const std::string& path,
                                  uint64_t offset, size_t max_bytes,
                                  const std::string& host) {
  log_chunk chunk;
  chunk.next_offset = offset;
  sftp_file f = sftp_open(sftp, path.c_str(), O_RDONLY, 0);
  if (f == nullptr) {
    if (sftp_get_error(sftp) == SSH_FX_NO_SUCH_FILE)
      return make_error(errc::not_found,
                        "log file " + path + " does not exist on " + host,
                        "the process may not have been started on this node");
    return make_error(errc::fatal, "ssh: cannot open " + path + " on " + host
                                     + ": " + ssh_get_error(sftp->session));
  }
  if (offset > 0 && sftp_seek64(f, offset) != 0) {
    sftp_close(f);
    return make_error(errc::fatal,
                      "ssh: cannot seek in " + path + " on " + host);
  }
  chunk.data.resize(max_bytes);
  size_t got = 0;
  while (got < max_bytes) {
    auto n = sftp_read(f, chunk.data.data() + got,
                       std::min<size_t>(max_bytes - got, 1 << 15));
    if (n < 0) {
      sftp_close(f);
      return make_error(errc::transient, "ssh: cannot read " + path + " on "
                                           + host + ": "
                                           + ssh_get_error(sftp->session));
    }
    if (n == 0)
      break;
    got += static_cast<size_t>(n);
  }
  sftp_close(f);
  chunk.data.resize(got);
  chunk.next_offset = offset + got;
  return chunk;
}

} // namespace sky::providers::ssh
