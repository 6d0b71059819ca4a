#include "actors/stream/log_stream.hpp"

#include "actors/core/worker_pool.hpp"
#include "actors/core/timeouts.hpp"
#include "messages/msgpack_util.hpp"

namespace sky::actors {

namespace {

using self_ptr = caf::stateful_actor<log_stream_state>*;

constexpr size_t max_read = 64 * 1024;

void tick(self_ptr self);

// The next read after the current wait, which then doubles (up to
// max_idle_wait) until something is read.
void tick_later(self_ptr self) {
  auto& st = self->state;
  self->delayed_send(self, st.wait, tick_atom_v, ++st.tick_epoch);
  st.wait
    = std::min(st.wait * 2, std::max(st.opts.idle_wait, st.opts.max_idle_wait));
}

bool job_ended(const job_snapshot& snap) {
  auto s = job_status_from(snap.status);
  return s && is_terminal(*s);
}

void finish(self_ptr self) {
  auto& st = self->state;
  protocol::job_outcome out;
  out.cluster = st.opts.cluster;
  out.job_id = st.job.snapshot.job_id;
  out.status = st.job.snapshot.status;
  out.exit_code = st.job.snapshot.exit_code;
  st.stream.finish(self, encode(out));
}

void fail(self_ptr self, const caf::error& err) {
  self->state.stream.fail(self, err);
}

// Files to read, in the order their output appears: setup then run, per
// node of the job.
void plan_files(log_stream_state& st) {
  if (!st.files.empty())
    return;
  const auto& ranks = st.job.snapshot.ranks;
  auto add = [&](job_phase phase, uint32_t rank) {
    log_file_cursor c;
    c.file = job_log_file(st.job.snapshot.job_id, phase, rank);
    c.rank = rank;
    st.files.push_back(std::move(c));
  };
  if (st.job.has_setup)
    for (auto r : ranks)
      add(job_phase::setup, r);
  for (auto r : ranks)
    add(job_phase::run, r);
}

struct read_result {
  std::vector<std::pair<size_t, std::string>> chunks; // file index, data
};

void on_read(self_ptr self, read_result& r, bool job_over) {
  auto& st = self->state;
  st.reading = false;
  std::string out;
  bool multi = st.job.snapshot.ranks.size() > 1;
  bool any = false;
  for (auto& [i, data] : r.chunks) {
    auto& f = st.files[i];
    f.offset += data.size();
    any = any || !data.empty();
    size_t index = 0;
    for (size_t k = 0; k < st.job.snapshot.ranks.size(); ++k)
      if (st.job.snapshot.ranks[k] == f.rank)
        index = k;
    out += complete_lines(f.partial, data,
                          multi ? node_prefix(index, f.rank) : std::string{});
  }
  if (!any && (job_over || !st.opts.follow)) {
    // Everything is read: flush unterminated last lines, then finish.
    for (auto& f : st.files)
      if (!f.partial.empty()) {
        out += f.partial + "\n";
        f.partial.clear();
      }
  }
  if (!out.empty()) {
    protocol::stream_item item;
    item.type = "log";
    item.job_id = st.job.snapshot.job_id;
    item.data = std::move(out);
    st.stream.send(self, encode(item));
  }
  if (!any && (job_over || !st.opts.follow)) {
    finish(self);
    return;
  }
  if (any) {
    st.wait = st.opts.idle_wait;
    tick(self); // more may be waiting
  } else {
    tick_later(self);
  }
}

void read_now(self_ptr self, bool job_over) {
  auto& st = self->state;
  st.reading = true;
  auto ctx = st.job.context;
  std::vector<std::pair<std::string, std::pair<uint32_t, uint64_t>>> files;
  for (const auto& f : st.files)
    files.push_back({f.file, {f.rank, f.offset}});
  run_blocking<read_result>(
    self, st.pool,
    [ctx, files]() -> result<read_result> {
      read_result r;
      size_t budget = max_read;
      for (size_t i = 0; i < files.size() && budget > 0; ++i) {
        auto chunk = read_job_log(ctx, files[i].first, files[i].second.first,
                                  files[i].second.second, budget);
        if (!chunk)
          continue; // not written yet (the phase has not started)
        budget -= std::min(budget, chunk->data.size());
        r.chunks.emplace_back(i, std::move(chunk->data));
      }
      return r;
    },
    [=](result<read_result> r) {
      if (!r) {
        fail(self, r.error());
        return;
      }
      on_read(self, *r, job_over);
    });
}

// Refreshes the job's state, then reads what is new.
void tick(self_ptr self) {
  auto& st = self->state;
  if (st.stream.done || st.reading || st.stream.credits == 0)
    return;
  st.reading = true;
  self
    ->request(st.registry, timeouts::quick_request, logs_atom_v,
              st.opts.cluster, st.opts.job_id)
    .then(
      [=](job_log_target& t) {
        auto& s = self->state;
        s.reading = false;
        // Pin the job id: `logs CLUSTER` follows the latest job at the
        // time it started, not one submitted later.
        s.opts.job_id = t.snapshot.job_id;
        s.job = std::move(t);
        if (s.opts.status_only) {
          finish(self);
          return;
        }
        plan_files(s);
        // A job whose processes have not been placed yet has nothing to
        // read; wait for it.
        if (s.job.snapshot.ranks.empty()) {
          if (job_ended(s.job.snapshot))
            finish(self);
          else
            tick_later(self);
          return;
        }
        read_now(self, job_ended(s.job.snapshot));
      },
      [=](caf::error& err) { fail(self, err); });
}

} // namespace

std::string node_prefix(size_t index_in_job, uint32_t rank) {
  return index_in_job == 0 ? "(head, rank=" + std::to_string(rank) + ") "
                           : "(worker" + std::to_string(index_in_job)
                               + ", rank=" + std::to_string(rank) + ") ";
}

std::string complete_lines(std::string& partial, const std::string& data,
                           const std::string& prefix) {
  std::string out;
  size_t start = 0;
  while (start < data.size()) {
    auto nl = data.find('\n', start);
    if (nl == std::string::npos) {
      partial += data.substr(start);
      break;
    }
    out += prefix + partial + data.substr(start, nl - start + 1);
    partial.clear();
    start = nl + 1;
  }
  return out;
}

caf::behavior log_stream(self_ptr self, reply_target target,
                         caf::actor registry, caf::actor pool,
                         log_stream_options opts) {
  auto& st = self->state;
  st.stream = credit_stream{std::move(target), opts.window};
  st.registry = std::move(registry);
  st.pool = std::move(pool);
  st.opts = std::move(opts);
  st.wait = st.opts.idle_wait;
  self->send(self, tick_atom_v);
  return {
    [=](tick_atom) { tick(self); },
    [=](tick_atom, uint64_t epoch) {
      if (epoch == self->state.tick_epoch)
        tick(self);
    },
    [=](poll_atom) {
      auto& s = self->state;
      s.wait = s.opts.idle_wait;
      ++s.tick_epoch; // the pending delayed tick is replaced by this one
      if (s.reading)
        return; // its answer schedules the next read, at the short wait
      tick(self);
    },
    [=](credit_atom, uint32_t n) {
      if (self->state.stream.grant(n))
        tick(self);
    },
    [=](cancel_atom) { finish(self); },
    [=](peer_gone_atom) { self->quit(); },
    [=](shutdown_atom) {
      fail(self,
           make_error(
             errc::unavailable, "skyd is shutting down; the job keeps running",
             "follow it again with skyctl logs " + self->state.opts.cluster
               + " " + std::to_string(self->state.job.snapshot.job_id)));
    },
  };
}

} // namespace sky::actors
