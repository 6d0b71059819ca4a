#include "messages/cluster_snapshot.hpp"

#include <string_view>

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  const msgpack::object&
  convert<sky::cluster_phase>::operator()(const msgpack::object& o,
                                          sky::cluster_phase& v) const {
    constexpr uint64_t last
      = static_cast<uint64_t>(sky::cluster_phase::terminating);
    if (o.type == msgpack::type::POSITIVE_INTEGER && o.via.u64 <= last) {
      v = static_cast<sky::cluster_phase>(o.via.u64);
      return o;
    }
    // Snapshots written before the phase was typed hold its text.
    if (o.type == msgpack::type::STR) {
      if (auto p = sky::cluster_phase_from(
            std::string_view{o.via.str.ptr, o.via.str.size})) {
        v = *p;
        return o;
      }
    }
    throw msgpack::type_error{};
  }

  } // namespace adaptor
} // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
} // namespace msgpack
