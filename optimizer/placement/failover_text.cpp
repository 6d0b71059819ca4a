#include "optimizer/placement/failover_text.hpp"

namespace sky::optimizer {

optimizer::block_entry failover_block(const optimizer::candidate& c,
                                      const std::string& tried_zone,
                                      failure_scope scope,
                                      const std::string& reason) {
  optimizer::block_entry e;
  e.cloud = c.cloud;
  e.reason = reason;
  e.source = "failover";
  auto zone = c.zone.empty() ? tried_zone : c.zone;
  if (c.fixed_capacity) {
    // A pool (local: the host) is all or nothing.
    e.scope = optimizer::block_scope::region;
    e.region = c.region;
  } else if (scope == failure_scope::cloud) {
    e.scope = optimizer::block_scope::cloud;
  } else if (scope == failure_scope::region || zone.empty()) {
    e.scope = optimizer::block_scope::region;
    e.region = c.region;
  } else {
    e.scope = optimizer::block_scope::zone;
    e.region = c.region;
    e.zone = zone;
  }
  return e;
}

std::string failover_line(const std::string& infra,
                          const std::string& instance_type,
                          const std::string& message,
                          optimizer::block_scope blocked) {
  std::string head = infra;
  if (!instance_type.empty())
    head += " " + instance_type;
  std::string text = message;
  // "gcp/us-central1/us-central1-a (simulated): ..." or "gcp/us-central1:
  // ...": the place is on the line already; keep "(simulated)".
  auto colon = text.find(": ");
  if (colon != std::string::npos) {
    auto prefix = text.substr(0, colon);
    bool simulated = false;
    const std::string sim_tag = " (simulated)";
    if (prefix.size() > sim_tag.size()
        && prefix.compare(prefix.size() - sim_tag.size(), sim_tag.size(),
                          sim_tag)
             == 0) {
      prefix.resize(prefix.size() - sim_tag.size());
      simulated = true;
    }
    bool names_place
      = !prefix.empty() && prefix.find(' ') == std::string::npos
        && infra.compare(0, prefix.size(), prefix) == 0
        && (infra.size() == prefix.size() || infra[prefix.size()] == '/');
    if (names_place) {
      text = text.substr(colon + 2);
      if (simulated)
        head += sim_tag;
    }
  }
  const char* scope = blocked == optimizer::block_scope::zone     ? "zone"
                      : blocked == optimizer::block_scope::region ? "region"
                                                                  : "cloud";
  return head + ": " + text + " (" + scope + " blocked), trying the next "
         + "candidate";
}

} // namespace sky::optimizer
