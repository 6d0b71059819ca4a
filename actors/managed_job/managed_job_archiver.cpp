#include "actors/managed_job/managed_job_archiver.hpp"

#include <fstream>

#include "actors/stream/log_stream.hpp"
#include "actors/core/logging.hpp"
#include "actors/core/worker_pool.hpp"
#include "messages/msgpack_util.hpp"
#include "messages/wire.hpp"

namespace sky::actors {

namespace {

using self_ptr = caf::stateful_actor<archiver_state>*;

result<bool> append_file(const std::filesystem::path& file,
                         const std::string& data, bool truncate) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  std::ofstream out(file, truncate ? std::ios::binary | std::ios::trunc
                                   : std::ios::binary | std::ios::app);
  out << data;
  out.flush();
  if (!out)
    return make_error(errc::internal,
                      "cannot write managed job log " + file.string());
  return true;
}

void maybe_report(self_ptr self) {
  auto& st = self->state;
  if (st.writing || !st.to_write.empty())
    return;
  if (st.outcome) {
    self->send(st.args.supervisor, done_atom_v, st.args.epoch, *st.outcome);
    self->quit();
  } else if (st.lost) {
    self->send(st.args.supervisor, done_atom_v, st.args.epoch, *st.lost);
    self->quit();
  }
}

void write_next(self_ptr self) {
  auto& st = self->state;
  if (st.writing || st.to_write.empty()) {
    maybe_report(self);
    return;
  }
  st.writing = true;
  auto [data, truncate] = std::move(st.to_write.front());
  st.to_write.pop_front();
  auto file = st.args.file;
  run_blocking<bool>(
    self, st.args.pool,
    [file, data = std::move(data), truncate = truncate] {
      return append_file(file, data, truncate);
    },
    [=](result<bool> r) {
      auto& s = self->state;
      s.writing = false;
      if (!r) // the copy is incomplete, the job goes on: say so in the log
        logger("managed_jobs")->warn("{}", describe(r.error()).message);
      if (s.stream)
        self->send(s.stream, credit_atom_v, uint32_t{1});
      write_next(self);
    });
}

// (Re)starts copying: the header truncates the file, so this attempt's copy
// starts over (the stream reads the job's output from its start).
void start_stream(self_ptr self) {
  auto& st = self->state;
  st.to_write.emplace_back(st.args.header, true);
  write_next(self);
  log_stream_options opts;
  opts.cluster = st.args.cluster;
  opts.job_id = st.args.job_id;
  opts.follow = true;
  opts.window = 4;
  opts.idle_wait = st.args.poll;
  opts.max_idle_wait = st.args.max_poll;
  reply_target target{caf::actor{self}, "managed-job-archiver", 1};
  st.stream = self->spawn<caf::linked>(log_stream, target, st.args.clusters,
                                       st.args.pool, opts);
}

} // namespace

caf::behavior log_archiver(self_ptr self, archiver_args args) {
  self->state.args = std::move(args);
  start_stream(self);
  return {
    [=](retry_atom) { start_stream(self); },
    [=](poll_atom) {
      if (self->state.stream)
        self->send(self->state.stream, poll_atom_v);
    },
    [=](wire_reply& r) {
      auto& s = self->state;
      if (r.status == wire::status::more) {
        auto item
          = protocol::decode_as<protocol::stream_item>(r.body, "log frame");
        if (item && item->type == "log" && !item->data.empty()) {
          s.to_write.emplace_back(std::move(item->data), false);
          write_next(self);
        } else if (s.stream) {
          self->send(s.stream, credit_atom_v, uint32_t{1});
        }
        return;
      }
      s.stream = nullptr; // it quits after its final frame
      if (r.status == wire::status::ok) {
        auto out
          = protocol::decode_as<protocol::job_outcome>(r.body, "job outcome");
        if (out)
          s.outcome = std::move(*out);
        else
          s.lost = describe(out.error()).message;
      } else {
        auto info = wire::decode_error_body(r.body);
        // A cluster that does not exist is gone. Others may pass: right
        // after a restart of skyd a cluster is UP before its nodes are
        // reachable again, so the copy starts over a little later.
        if (info && info->code != errc::not_found && s.retries_left > 0) {
          --s.retries_left;
          self->delayed_send(self, s.args.poll, retry_atom_v);
          return;
        }
        s.lost = info ? info->message : std::string{"the log stream failed"};
      }
      maybe_report(self);
    },
  };
}

} // namespace sky::actors
