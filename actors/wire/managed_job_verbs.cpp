// The managed-job verbs of the control protocol (`jobs.launch`,
// `jobs.queue`, `jobs.cancel`, `jobs.logs`; docs/PROTOCOL.md): decoding and
// routing to the managed jobs registry or a managed_log_stream.

#include "actors/wire/dispatcher.hpp"
#include "actors/managed_job/managed_jobs.hpp"
#include "actors/stream/managed_log_stream.hpp"
#include "actors/core/timeouts.hpp"
#include "messages/msgpack_util.hpp"

namespace sky::actors {

namespace {

bool served(dispatcher_ptr self, const reply_target& target) {
  if (self->state.deps.managed_jobs)
    return true;
  target.fail(
    self, make_error(errc::unavailable, "this skyd does not run managed jobs"));
  return false;
}

void open_logs(dispatcher_ptr self, const reply_target& target,
               const wire_request& req, uint64_t job_id, bool follow,
               uint32_t window) {
  managed_log_options opts;
  opts.job_id = job_id;
  opts.follow = follow;
  opts.window = std::clamp<uint32_t>(window, 1, 65536);
  opts.dir = self->state.deps.managed_jobs_dir;
  add_stream(self, req,
             self->spawn<caf::linked>(managed_log_stream, target,
                                      self->state.deps.managed_jobs,
                                      self->state.deps.pool, opts));
}

void launch(dispatcher_ptr self, const reply_target& target,
            const wire_request& req) {
  auto decoded = protocol::decode_jobs_launch_request(req.body);
  if (!decoded) {
    target.fail(self, decoded.error());
    return;
  }
  auto detach = decoded->detach;
  auto window = decoded->window;
  self
    ->request(self->state.deps.managed_jobs, timeouts::jobs_launch,
              launch_atom_v, std::move(*decoded))
    .then(
      [=](protocol::managed_job_row& row) {
        if (detach) {
          protocol::job_outcome out;
          out.job_id = row.job_id;
          out.status = row.status;
          target.ok(self, sky::encode(out));
          return;
        }
        // The job is durable; the rest of the request follows it.
        open_logs(self, target, req, row.job_id, true, window);
      },
      [=](caf::error& err) { target.fail(self, err); });
}

} // namespace

bool dispatch_managed_job_verb(dispatcher_ptr self, const reply_target& target,
                               wire_request& req) {
  const auto& verb = req.verb;
  if (verb.rfind("jobs.", 0) != 0)
    return false;
  if (!served(self, target))
    return true;
  const auto& jobs = self->state.deps.managed_jobs;
  if (verb == "jobs.launch") {
    launch(self, target, req);
  } else if (verb == "jobs.queue") {
    protocol::jobs_queue_request r;
    if (decode_body(self, target, req, r))
      self->request(jobs, timeouts::quick_request, queue_atom_v, r)
        .then(
          [=](protocol::jobs_queue_reply& reply) {
            target.ok(self, sky::encode(reply));
          },
          [=](caf::error& err) { target.fail(self, err); });
  } else if (verb == "jobs.cancel") {
    protocol::jobs_cancel_request r;
    if (!decode_body(self, target, req, r))
      return true;
    if (r.job_ids.empty() && r.name.empty() && !r.all) {
      target.fail(self, make_error(errc::invalid_argument,
                                   "jobs cancel needs job ids, -n NAME or -a",
                                   "for example: skyctl jobs cancel 3"));
      return true;
    }
    self->request(jobs, timeouts::jobs_cancel, cancel_atom_v, r)
      .then(
        [=](protocol::jobs_cancel_reply& reply) {
          target.ok(self, sky::encode(reply));
        },
        [=](caf::error& err) { target.fail(self, err); });
  } else if (verb == "jobs.logs") {
    protocol::jobs_logs_request r;
    if (decode_body(self, target, req, r))
      open_logs(self, target, req, r.job_id, r.follow, r.window);
  } else {
    return false;
  }
  return true;
}

} // namespace sky::actors
