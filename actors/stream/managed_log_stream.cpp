#include "actors/stream/managed_log_stream.hpp"

#include <algorithm>
#include <fstream>

#include "actors/core/worker_pool.hpp"
#include "actors/core/timeouts.hpp"
#include "messages/msgpack_util.hpp"
#include "optimizer/managed_job/managed_job_model.hpp"

namespace sky::actors {

namespace {

using self_ptr = caf::stateful_actor<managed_log_state>*;

constexpr size_t max_read = 64 * 1024;

struct chunk {
  std::string data;
  size_t file = 0;
  uint64_t offset = 0;
};

// The next bytes after (file, offset) over the job's attempt files in name
// order ("0001.log", "0002.log", ...).
result<chunk> read_from(const std::filesystem::path& dir, size_t file,
                        uint64_t offset) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".log")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  chunk c{{}, file, offset};
  while (c.file < files.size()) {
    std::ifstream in(files[c.file], std::ios::binary);
    in.seekg(static_cast<std::streamoff>(c.offset));
    std::string buf(max_read, '\0');
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    buf.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    if (!buf.empty()) {
      c.offset += buf.size();
      c.data = std::move(buf);
      return c;
    }
    if (c.file + 1 >= files.size())
      break; // the last file may still grow
    ++c.file;
    c.offset = 0;
  }
  return c;
}

bool is_final(const std::string& status) {
  auto s = optimizer::parse_managed_job_state(status);
  return s && optimizer::is_terminal(*s);
}

void finish(self_ptr self) {
  auto& st = self->state;
  protocol::job_outcome out;
  out.cluster = st.row.cluster;
  out.job_id = st.row.job_id;
  out.status = st.row.status;
  st.stream.finish(self, sky::encode(out));
}

void fail(self_ptr self, const caf::error& err) {
  self->state.stream.fail(self, err);
}

void send_item(self_ptr self, protocol::stream_item item) {
  self->state.stream.send(self, sky::encode(item));
}

void tick(self_ptr self);

void read_next(self_ptr self, bool final) {
  auto& st = self->state;
  auto dir = st.opts.dir / std::to_string(st.row.job_id);
  auto file = st.file;
  auto offset = st.offset;
  run_blocking<chunk>(
    self, st.pool, [dir, file, offset] { return read_from(dir, file, offset); },
    [=](result<chunk> r) {
      auto& s = self->state;
      s.busy = false;
      if (!r) {
        fail(self, r.error());
        return;
      }
      s.file = r->file;
      s.offset = r->offset;
      if (!r->data.empty()) {
        protocol::stream_item item;
        item.type = "log";
        item.job_id = s.row.job_id;
        item.data = std::move(r->data);
        send_item(self, std::move(item));
        tick(self); // more may be waiting
        return;
      }
      // Everything there is has been read. A final job writes no more
      // (the supervisor copies an attempt's output before it decides).
      if (final || !s.opts.follow) {
        finish(self);
        return;
      }
      self->delayed_send(self, s.opts.idle_wait, tick_atom_v);
    });
}

void tick(self_ptr self) {
  auto& st = self->state;
  if (st.stream.done || st.busy || st.stream.credits == 0)
    return;
  st.busy = true;
  self->request(st.jobs, timeouts::quick_request, logs_atom_v, st.opts.job_id)
    .then(
      [=](protocol::managed_job_row& row) {
        auto& s = self->state;
        // Pin the id: "the latest job" is the one at the start.
        s.opts.job_id = row.job_id;
        s.row = std::move(row);
        if (s.row.status != s.announced) {
          s.announced = s.row.status;
          protocol::stream_item item;
          item.type = "progress";
          item.stage = "managed_job";
          item.message = "Managed job " + std::to_string(s.row.job_id) + " ("
                         + s.row.name + ") is " + s.row.status
                         + (s.row.reason.empty() ? "" : ": " + s.row.reason);
          send_item(self, std::move(item));
        }
        // The state is read before the files: a job final now has all of
        // its output on disk already.
        read_next(self, is_final(s.row.status));
      },
      [=](caf::error& err) { fail(self, err); });
}

} // namespace

caf::behavior managed_log_stream(self_ptr self, reply_target target,
                                 caf::actor jobs, caf::actor pool,
                                 managed_log_options opts) {
  auto& st = self->state;
  st.stream = credit_stream{std::move(target), opts.window};
  st.jobs = std::move(jobs);
  st.pool = std::move(pool);
  st.opts = std::move(opts);
  self->send(self, tick_atom_v);
  heartbeat_after(self, timeouts::heartbeat);
  return {
    [=](tick_atom) { tick(self); },
    [=](heartbeat_atom) {
      if (self->state.stream.done)
        return;
      self->state.stream.heartbeat(self);
      heartbeat_after(self, timeouts::heartbeat);
    },
    [=](credit_atom, uint32_t n) {
      if (self->state.stream.grant(n))
        tick(self);
    },
    [=](cancel_atom) { finish(self); },
    [=](peer_gone_atom) { self->quit(); },
    [=](shutdown_atom) {
      fail(self, make_error(errc::unavailable,
                            "skyd is shutting down; the managed job resumes "
                            "when it restarts",
                            "follow it again with skyctl jobs logs "
                              + std::to_string(self->state.opts.job_id)));
    },
  };
}

} // namespace sky::actors
