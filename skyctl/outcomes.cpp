#include "skyctl/outcomes.hpp"

#include <ostream>

#include "skyctl/output.hpp"

namespace sky::cli {

namespace {

outcome read_one(const nlohmann::ordered_json& j) {
  outcome o;
  if (!j.is_object())
    return o;
  auto text = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>()
                                            : std::string{};
  };
  o.cluster = text("cluster");
  o.status = text("status");
  o.message = text("message");
  if (auto it = j.find("ok"); it != j.end() && it->is_boolean())
    o.ok = it->get<bool>();
  if (auto it = j.find("job_id"); it != j.end() && it->is_number_unsigned())
    o.job_id = it->get<uint64_t>();
  return o;
}

} // namespace

result<std::vector<outcome>> read_outcomes(std::string_view body) {
  if (body.empty())
    return std::vector<outcome>{};
  auto json = body_to_json(body);
  if (!json)
    return json.error();
  std::vector<outcome> out;
  if (json->is_null())
    return out;
  if (json->is_object()) {
    auto results = json->find("results");
    if (results != json->end() && results->is_array()) {
      for (const auto& r : *results)
        out.push_back(read_one(r));
      return out;
    }
    out.push_back(read_one(*json));
    return out;
  }
  return make_error(errc::bad_request,
                    "skyd's reply is neither a result nor a list of results",
                    "check that skyctl and skyd are of the same release");
}

int print_outcomes(std::ostream& out, std::ostream& err,
                   const std::vector<outcome>& outcomes,
                   const std::function<std::string(const outcome&)>& fallback) {
  int code = exit_ok;
  for (const auto& o : outcomes) {
    if (o.ok) {
      out << (o.message.empty() ? fallback(o) : o.message) << "\n";
      continue;
    }
    code = exit_failed;
    std::string subject
      = o.job_id ? "job " + std::to_string(*o.job_id) : "cluster " + o.cluster;
    if (o.job_id && !o.cluster.empty())
      subject += " on cluster " + o.cluster;
    if (o.message.empty()) {
      err << "skyctl: " << subject << ": failed"
          << (o.status.empty() ? "" : " (status " + o.status + ")") << "\n";
      continue;
    }
    // skyd's messages usually name the cluster already ("cluster 'a' does
    // not exist"): then the subject would only repeat it.
    bool named
      = !o.cluster.empty() && o.message.find(o.cluster) != std::string::npos;
    err << "skyctl: " << (named ? "" : subject + ": ") << o.message << "\n";
  }
  return code;
}

} // namespace sky::cli
