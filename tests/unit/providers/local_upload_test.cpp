#include <catch2/catch.hpp>

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include "providers/local/local_channel.hpp"
#include "providers/local/sync_dir.hpp"
#include "tests/support/test_support.hpp"
#include "tests/unit/providers/local_test_util.hpp"

using namespace sky;
using namespace sky::providers;
using namespace sky::providers::testing;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream{p, std::ios::binary} << text;
}

struct stat lstat_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st;
}

/// Sets the mtime of `p` to `sec` seconds + `nsec` after the epoch.
void set_mtime(const fs::path& p, time_t sec, long nsec) {
  struct timespec t[2] = {{sec, nsec}, {sec, nsec}};
  REQUIRE(::utimensat(AT_FDCWD, p.c_str(), t, AT_SYMLINK_NOFOLLOW) == 0);
}

bool same_mtime(const fs::path& a, const fs::path& b) {
  auto x = lstat_of(a);
  auto y = lstat_of(b);
  return x.st_mtim.tv_sec == y.st_mtim.tv_sec
         && x.st_mtim.tv_nsec == y.st_mtim.tv_nsec;
}

/// A source tree: 2 regular files, a symlink, an empty directory, and .git
/// folders that must never travel.
fs::path make_source(const fs::path& root) {
  auto src = root / "src";
  write(src / "a.txt", "hello");
  write(src / "sub/b.sh", "#!/bin/sh\necho b\n");
  ::chmod((src / "sub/b.sh").c_str(), 0750);
  fs::create_directories(src / "empty");
  fs::create_symlink("a.txt", src / "link");
  write(src / ".git/config", "[core]\n");
  write(src / "sub/.git/HEAD", "ref\n");
  set_mtime(src / "a.txt", 1600000000, 123456789);
  set_mtime(src / "sub/b.sh", 1600000100, 5);
  return src;
}

} // namespace

TEST_CASE("upload: first copy, then only what changed") {
  sky::testing::temp_dir tmp{"skyloc"};
  auto src = make_source(tmp.path());
  local_channel ch{tmp.path() / "node"};
  auto dst = tmp.path() / "node/code";

  auto first = ch.upload(src, "code");
  REQUIRE(first);
  CHECK(first->files_copied == 3); // a.txt, sub/b.sh, link
  CHECK(first->files_unchanged == 0);
  CHECK(first->files_deleted == 0);
  CHECK(first->bytes_copied == 5 + 17);
  CHECK(slurp(dst / "a.txt") == "hello");
  CHECK(same_mtime(src / "a.txt", dst / "a.txt"));
  CHECK(same_mtime(src / "sub/b.sh", dst / "sub/b.sh"));
  CHECK((lstat_of(dst / "sub/b.sh").st_mode & 07777) == 0750);
  CHECK(fs::is_symlink(dst / "link"));
  CHECK(fs::read_symlink(dst / "link") == "a.txt");
  CHECK(fs::is_directory(dst / "empty"));
  CHECK_FALSE(fs::exists(dst / ".git"));
  CHECK_FALSE(fs::exists(dst / "sub/.git"));
  CHECK(same_mtime(src / "sub", dst / "sub"));

  auto second = ch.upload(src, "code");
  REQUIRE(second);
  CHECK(second->files_copied == 0);
  CHECK(second->files_unchanged == 3);
  CHECK(second->bytes_copied == 0);

  // Same size, new mtime: copied. Permission change only: fixed in place.
  write(src / "a.txt", "HELLO");
  ::chmod((src / "sub/b.sh").c_str(), 0700);
  auto third = ch.upload(src, (tmp.path() / "node/code").string());
  REQUIRE(third);
  CHECK(third->files_copied == 1);
  CHECK(third->files_unchanged == 2);
  CHECK(slurp(dst / "a.txt") == "HELLO");
  CHECK((lstat_of(dst / "sub/b.sh").st_mode & 07777) == 0700);
}

TEST_CASE("upload: deletions, type changes, and the destination's .git") {
  sky::testing::temp_dir tmp{"skyloc"};
  auto src = make_source(tmp.path());
  auto dst = tmp.path() / "dst";
  REQUIRE(sync_directory(src, dst));
  write(dst / ".git/keep", "theirs");
  write(dst / "extra/x", "1");
  write(dst / "extra/y", "2");

  fs::remove(src / "sub/b.sh");
  fs::remove(src / "link");
  fs::create_symlink("sub", src / "link"); // other target
  fs::remove(src / "a.txt");
  write(src / "a.txt/inner", "now a directory");
  write(src / "new.txt", "new");
  auto r = sync_directory(src, dst);
  REQUIRE(r);
  // Deleted: sub/b.sh, extra/x, extra/y, the old file a.txt.
  CHECK(r->files_deleted == 4);
  // Copied: link (retargeted), a.txt/inner, new.txt.
  CHECK(r->files_copied == 3);
  CHECK_FALSE(fs::exists(dst / "sub/b.sh"));
  CHECK_FALSE(fs::exists(dst / "extra"));
  CHECK(fs::read_symlink(dst / "link") == "sub");
  CHECK(slurp(dst / "a.txt/inner") == "now a directory");
  CHECK(slurp(dst / ".git/keep") == "theirs");
}

TEST_CASE("upload: source through a symlink, nested trees refused") {
  sky::testing::temp_dir tmp{"skyloc"};
  auto src = make_source(tmp.path());
  fs::create_symlink(src, tmp.path() / "alias");
  auto r = sync_directory(tmp.path() / "alias", tmp.path() / "out");
  REQUIRE(r);
  CHECK(r->files_copied == 3);
  CHECK(fs::is_regular_file(tmp.path() / "out/a.txt"));

  auto inside = sync_directory(src, src / "sub/copy");
  REQUIRE_FALSE(inside);
  CHECK(code_of(inside.error()) == errc::invalid_argument);
  CHECK_FALSE(sync_directory(src / "sub", src));
  CHECK_FALSE(sync_directory(src, src));
  auto missing = sync_directory(tmp.path() / "nope", tmp.path() / "out2");
  REQUIRE_FALSE(missing);
  CHECK_THAT(message_of(missing.error()), Catch::Contains("not a directory"));
}
