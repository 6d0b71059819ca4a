#pragma once

// Helpers of the managed job integration tests (managed_jobs_test.cpp,
// managed_jobs_sim_test.cpp): `jobs queue` rows, waiting for a state,
// submitting detached jobs.

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "skyd_fixture.hpp"

namespace sky::testing {

inline nlohmann::json managed_jobs(const skyd_home& home) {
  auto r = home.skyctl({"jobs", "queue", "-o", "json"});
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out)["jobs"];
}

inline nlohmann::json managed_job(const skyd_home& home, uint64_t id) {
  for (const auto& j : managed_jobs(home))
    if (j["job_id"] == id)
      return j;
  return nullptr;
}

inline bool final_state(const std::string& s) {
  return s == "SUCCEEDED" || s == "CANCELLED" || s.rfind("FAILED", 0) == 0;
}

/// Polls `jobs queue` until `done(job)` holds, or the timeout; returns the
/// last row seen (the caller checks it).
template <class Pred>
nlohmann::json wait_for(const skyd_home& home, uint64_t id, Pred done,
                        std::chrono::seconds timeout
                        = std::chrono::seconds(60)) {
  auto until = std::chrono::steady_clock::now() + timeout;
  nlohmann::json j;
  do {
    j = managed_job(home, id);
    if (j.is_object() && done(j))
      return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < until);
  return j;
}

inline nlohmann::json wait_final(const skyd_home& home, uint64_t id) {
  return wait_for(
    home, id, [](const nlohmann::json& j) { return final_state(j["status"]); });
}

/// `jobs launch -y -d ARGS...`; returns the new job's id.
inline uint64_t launch_detached(const skyd_home& home,
                                std::vector<std::string> args) {
  args.insert(args.begin(), {"jobs", "launch", "-y", "-d"});
  auto r = home.skyctl(args);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto pos = r.out.find("Managed job ID: ");
  REQUIRE(pos != std::string::npos);
  return std::stoull(r.out.substr(pos + 16));
}

inline std::string write_file(const skyd_home& home, const std::string& name,
                              const std::string& text) {
  auto path = home.path() / name;
  std::ofstream{path} << text;
  return path.string();
}

inline size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos;
       pos = text.find(what, pos + 1))
    ++n;
  return n;
}

/// No cluster at all, managed jobs' included (plain `status` hides those).
inline bool no_clusters(const skyd_home& home) {
  auto r = home.skyctl({"status", "-a"});
  return r.exit_code == 0
         && r.out.find("No existing clusters") != std::string::npos;
}

/// `jobs logs ID --no-follow` until `line` is in it (output is copied
/// while the task runs; a preempted node's own log goes with it).
inline bool wait_for_log(const skyd_home& home, uint64_t id,
                         const std::string& line) {
  for (int i = 0; i < 100; ++i) {
    auto kept
      = home.skyctl({"jobs", "logs", std::to_string(id), "--no-follow"});
    if (kept.out.find(line) != std::string::npos)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

} // namespace sky::testing
