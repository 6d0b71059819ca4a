// The service verbs of the control protocol (`serve.up`, `serve.update`,
// `serve.status`, `serve.down`; docs/PROTOCOL.md): decoding and routing to
// the services registry.

#include "actors/core/timeouts.hpp"
#include "actors/service/services.hpp"
#include "actors/wire/dispatcher.hpp"
#include "messages/msgpack_util.hpp"

namespace sky::actors {

namespace {

bool served(dispatcher_ptr self, const reply_target& target) {
  if (self->state.deps.services)
    return true;
  target.fail(self,
              make_error(errc::unavailable, "this skyd does not run services"));
  return false;
}

} // namespace

bool dispatch_serve_verb(dispatcher_ptr self, const reply_target& target,
                         wire_request& req) {
  const auto& verb = req.verb;
  if (verb.rfind("serve.", 0) != 0)
    return false;
  if (!served(self, target))
    return true;
  const auto& services = self->state.deps.services;
  if (verb == "serve.up" || verb == "serve.update") {
    auto decoded = protocol::decode_serve_up_request(req.body);
    if (!decoded) {
      target.fail(self, decoded.error());
      return true;
    }
    if (verb == "serve.update" && decoded->name.empty()) {
      target.fail(self, make_error(errc::invalid_argument,
                                   "serve update needs the service's name",
                                   "skyctl serve update NAME service.yaml"));
      return true;
    }
    auto go = [=](auto atom) {
      self
        ->request(services, timeouts::quick_request, atom, std::move(*decoded))
        .then(
          [=](protocol::service_row& row) {
            target.ok(self, sky::encode(row));
          },
          [=](caf::error& err) { target.fail(self, err); });
    };
    if (verb == "serve.up")
      go(launch_atom_v);
    else
      go(update_atom_v);
  } else if (verb == "serve.status") {
    protocol::serve_status_request r;
    if (decode_body(self, target, req, r))
      self->request(services, timeouts::quick_request, status_atom_v, r)
        .then(
          [=](protocol::serve_status_reply& reply) {
            target.ok(self, sky::encode(reply));
          },
          [=](caf::error& err) { target.fail(self, err); });
  } else if (verb == "serve.down") {
    protocol::serve_down_request r;
    if (decode_body(self, target, req, r))
      // As long as tearing the replicas down takes.
      self->request(services, caf::infinite, down_atom_v, r)
        .then(
          [=](protocol::serve_down_reply& reply) {
            target.ok(self, sky::encode(reply));
          },
          [=](caf::error& err) { target.fail(self, err); });
  } else if (verb == "serve.logs") {
    target.fail(self, make_error(errc::unsupported,
                                 "serve logs is not served by this skyd yet",
                                 "read the replica's cluster job with skyctl "
                                 "logs <service>-<id> (skyctl status -a)"));
  } else {
    return false;
  }
  return true;
}

} // namespace sky::actors
