#include "messages/serve_protocol.hpp"

#include "messages/body_reader.hpp"
#include "messages/cluster.hpp"
#include "messages/msgpack_util.hpp"
#include "messages/task/task_codec.hpp"

namespace sky::protocol {

result<void> validate_service_name(std::string_view name) {
  const std::string hint = "use letters, digits and dashes, starting with a "
                           "letter, e.g. 'llm-1'";
  if (name.size() > 50)
    return make_error(errc::invalid_argument,
                      "invalid service name '" + std::string{name}
                        + "': it has " + std::to_string(name.size())
                        + " characters (at most 50)",
                      hint);
  auto ok = validate_cluster_name(name);
  if (ok)
    return ok;
  auto text = describe(ok.error()).message;
  const std::string from = "invalid cluster name";
  if (text.rfind(from, 0) == 0)
    text = "invalid service name" + text.substr(from.size());
  return make_error(errc::invalid_argument, text, hint);
}

std::string encode(const serve_up_request& req) {
  return map_writer{3}
    .add("name", req.name)
    .add_raw("task", task::encode_task(req.task))
    .add("mode", req.mode)
    .bytes();
}

result<serve_up_request> decode_serve_up_request(std::string_view body) {
  auto r = body_reader::parse(body, "serve request");
  if (!r)
    return r.error();
  serve_up_request req;
  auto* task = r->find("task");
  if (task == nullptr)
    return make_error(errc::bad_request, "serve request has no 'task'");
  auto decoded = task::decode_task(*task);
  if (!decoded)
    return decoded.error();
  req.task = std::move(*decoded);
  if (auto err = read_into(req.name, r->str("name", "")))
    return err;
  if (auto err = read_into(req.mode, r->str("mode", "")))
    return err;
  return req;
}

} // namespace sky::protocol
