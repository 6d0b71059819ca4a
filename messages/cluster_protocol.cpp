#include "messages/cluster_protocol.hpp"

#include "messages/body_reader.hpp"
#include "messages/task/task_codec.hpp"

namespace sky::protocol {

namespace {

caf::error need_field(std::string_view what, std::string_view field) {
  return make_error(errc::bad_request,
                    std::string{what} + " has no '" + std::string{field} + "'");
}

} // namespace

std::string encode(const launch_request& req) {
  return map_writer{8}
    .add("cluster", req.cluster)
    .add_raw("pipeline", task::encode_pipeline(req.pipeline))
    .add("detach", req.detach)
    .add("down", req.down)
    .add("idle_minutes", req.idle_minutes)
    .add("retry_until_up", req.retry_until_up)
    .add("no_setup", req.no_setup)
    .add("window", req.window)
    .bytes();
}

result<launch_request> decode_launch_request(std::string_view body) {
  auto r = body_reader::parse(body, "launch request");
  if (!r)
    return r.error();
  launch_request req;
  auto* pipeline = r->find("pipeline");
  if (pipeline == nullptr)
    return need_field("launch request", "pipeline");
  auto decoded = task::decode_pipeline(*pipeline);
  if (!decoded)
    return decoded.error();
  req.pipeline = std::move(*decoded);
  if (auto err = read_into(req.cluster, r->str("cluster", "")))
    return err;
  if (auto err = read_into(req.detach, r->boolean("detach", false)))
    return err;
  if (auto err = read_into(req.down, r->boolean("down", false)))
    return err;
  int64_t idle = -1;
  if (auto err = read_into(idle, r->i64("idle_minutes", -1)))
    return err;
  req.idle_minutes
    = static_cast<int32_t>(std::clamp<int64_t>(idle, -1, 525600));
  if (auto err
      = read_into(req.retry_until_up, r->boolean("retry_until_up", false)))
    return err;
  if (auto err = read_into(req.no_setup, r->boolean("no_setup", false)))
    return err;
  uint64_t window = 64;
  if (auto err = read_into(window, r->u64("window", 64)))
    return err;
  req.window = static_cast<uint32_t>(std::clamp<uint64_t>(window, 1, 65536));
  return req;
}

std::string encode(const exec_request& req) {
  return map_writer{4}
    .add("cluster", req.cluster)
    .add_raw("task", task::encode_task(req.task))
    .add("detach", req.detach)
    .add("window", req.window)
    .bytes();
}

result<exec_request> decode_exec_request(std::string_view body) {
  auto r = body_reader::parse(body, "exec request");
  if (!r)
    return r.error();
  exec_request req;
  auto* task = r->find("task");
  if (task == nullptr)
    return need_field("exec request", "task");
  auto decoded = task::decode_task(*task);
  if (!decoded)
    return decoded.error();
  req.task = std::move(*decoded);
  if (auto err = read_into(req.cluster, r->str("cluster", "")))
    return err;
  if (auto err = read_into(req.detach, r->boolean("detach", false)))
    return err;
  uint64_t window = 64;
  if (auto err = read_into(window, r->u64("window", 64)))
    return err;
  req.window = static_cast<uint32_t>(std::clamp<uint64_t>(window, 1, 65536));
  return req;
}

std::string encode(const optimize_request& req) {
  return map_writer{1}
    .add_raw("pipeline", task::encode_pipeline(req.pipeline))
    .bytes();
}

result<optimize_request> decode_optimize_request(std::string_view body) {
  auto r = body_reader::parse(body, "optimize request");
  if (!r)
    return r.error();
  auto* pipeline = r->find("pipeline");
  if (pipeline == nullptr)
    return need_field("optimize request", "pipeline");
  auto decoded = task::decode_pipeline(*pipeline);
  if (!decoded)
    return decoded.error();
  return optimize_request{std::move(*decoded)};
}

} // namespace sky::protocol

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  const msgpack::object&
  convert<sky::errc>::operator()(const msgpack::object& o, sky::errc& v) const {
    if (o.type != msgpack::type::STR)
      throw msgpack::type_error{};
    v = sky::errc_from_string(std::string_view{o.via.str.ptr, o.via.str.size})
          .value_or(sky::errc::none);
    return o;
  }

  } // namespace adaptor
} // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
} // namespace msgpack
