#pragma once

// Helpers of the integration tests on simulated clouds: a config simulating
// gcp, azure and aws from the repository's own small catalog
// (data/catalogs), and readers of status, queue and events as JSON.

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "skyd_fixture.hpp"

namespace sky::testing::sim_it {

using nlohmann::json;

// Writes the scenario and a config simulating gcp, azure and aws.
inline void simulate(const skyd_home& home, const std::string& scenario,
                     const std::string& extra = {}) {
  auto file = home.path() / "scenario.yaml";
  std::ofstream{file} << scenario;
  home.write_config("sim:\n  clouds: [gcp, azure, aws]\n  scenario: "
                    + file.string() + "\nevents:\n  sync: false\n" + extra);
}

inline json status_of(const skyd_home& home, const std::string& name) {
  auto r = home.skyctl({"status", "-o", "json"});
  REQUIRE(r.exit_code == 0);
  auto doc = json::parse(r.out); // the loop must not outlive it
  for (const auto& c : doc["clusters"])
    if (c["name"] == name)
      return c;
  return nullptr;
}

inline json jobs_of(const skyd_home& home, const std::string& name) {
  auto r = home.skyctl({"queue", name, "-o", "json"});
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out)["jobs"];
}

inline std::vector<json> events_of(const skyd_home& home,
                                   const std::string& topic) {
  auto r = home.skyctl({"events", "--topic", topic, "-o", "json"});
  REQUIRE(r.exit_code == 0);
  std::vector<json> out;
  std::istringstream in{r.out};
  std::string line;
  while (std::getline(in, line))
    out.push_back(json::parse(line));
  return out;
}

inline size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1))
    ++n;
  return n;
}

// The repository catalog's on-demand price of `type` in `region` (the
// Price column), read independently of skyd's catalog code.
inline double catalog_price(const std::string& cloud, const std::string& type,
                            const std::string& region) {
  std::ifstream in{std::string{SKY_SOURCE_DIR} + "/data/catalogs/" + cloud
                   + "/vms.csv"};
  std::string header;
  std::getline(in, header);
  auto split = [](const std::string& line) {
    std::vector<std::string> cells;
    std::string cell;
    bool quoted = false;
    for (char c : line) {
      if (c == '"')
        quoted = !quoted;
      else if (c == ',' && !quoted) {
        cells.push_back(cell);
        cell.clear();
      } else
        cell += c;
    }
    cells.push_back(cell);
    return cells;
  };
  auto names = split(header);
  auto col = [&](const std::string& name) {
    return static_cast<size_t>(std::find(names.begin(), names.end(), name)
                               - names.begin());
  };
  std::string line;
  while (std::getline(in, line)) {
    auto cells = split(line);
    if (cells.size() == names.size() && cells[col("InstanceType")] == type
        && cells[col("Region")] == region)
      return std::stod(cells[col("Price")]);
  }
  FAIL("no " << type << " in " << cloud << "/" << region);
  return 0;
}

template <class Pred>
bool eventually(Pred pred,
                std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (pred())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

} // namespace sky::testing::sim_it
