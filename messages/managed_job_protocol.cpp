#include "messages/managed_job_protocol.hpp"

#include <algorithm>

#include "messages/body_reader.hpp"
#include "messages/msgpack_util.hpp"
#include "messages/task/task_codec.hpp"

namespace sky::protocol {

std::string encode(const jobs_launch_request& req) {
  return map_writer{5}
    .add("name", req.name)
    .add_raw("pipeline", task::encode_pipeline(req.pipeline))
    .add("job_recovery", req.job_recovery)
    .add("detach", req.detach)
    .add("window", req.window)
    .bytes();
}

result<jobs_launch_request> decode_jobs_launch_request(std::string_view body) {
  auto r = body_reader::parse(body, "jobs.launch request");
  if (!r)
    return r.error();
  jobs_launch_request req;
  auto* pipeline = r->find("pipeline");
  if (pipeline == nullptr)
    return make_error(errc::bad_request,
                      "jobs.launch request has no 'pipeline'");
  auto decoded = task::decode_pipeline(*pipeline);
  if (!decoded)
    return decoded.error();
  req.pipeline = std::move(*decoded);
  if (auto err = read_into(req.name, r->str("name", "")))
    return err;
  if (auto err = read_into(req.job_recovery, r->str("job_recovery", "")))
    return err;
  if (auto err = read_into(req.detach, r->boolean("detach", false)))
    return err;
  uint64_t window = 64;
  if (auto err = read_into(window, r->u64("window", 64)))
    return err;
  req.window = static_cast<uint32_t>(std::clamp<uint64_t>(window, 1, 65536));
  return req;
}

} // namespace sky::protocol
