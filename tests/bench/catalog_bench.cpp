// Loading every real catalog (/work/shared/catalogs): wall time and
// resident memory, printed beside their targets. Never fails on timing.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "optimizer/placement/catalog.hpp"
#include "tests/support/test_support.hpp"

using namespace sky::optimizer;

namespace {

double mib(size_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

} // namespace

int main() {
  auto dir = sky::testing::shared_catalogs_dir();
  if (!dir) {
    std::printf("catalog_bench: shared catalogs not found (set "
                "SKY_SHARED_CATALOGS); nothing measured\n");
    return 0;
  }
  using clock = std::chrono::steady_clock;
  const size_t rss_before = sky::testing::current_rss_bytes();
  auto t0 = clock::now();
  auto first = load_catalogs(*dir);
  auto t1 = clock::now();
  if (!first) {
    std::printf("catalog_bench: load failed: %s\n",
                sky::describe(first.error()).message.c_str());
    return 1;
  }
  const size_t rss_after = sky::testing::current_rss_bytes();
  size_t rows = 0, offers = first->cat.offers().size();
  for (const auto& f : first->files)
    rows += f.rows;

  // Repeated loads for a steadier figure (the first also pays cold caches).
  std::vector<double> ms;
  for (int i = 0; i < 5; ++i) {
    auto a = clock::now();
    auto again = load_catalogs(*dir);
    auto b = clock::now();
    if (!again)
      return 1;
    ms.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::sort(ms.begin(), ms.end());
  const double first_ms
    = std::chrono::duration<double, std::milli>(t1 - t0).count();

  std::printf("catalog_bench: %s\n", dir->c_str());
  std::printf("  files %zu, rows %zu, offers %zu (GCP accelerators paired "
              "with hosts), interned names %zu, diagnostics %zu\n",
              first->files.size(), rows, offers, first->cat.interned_names(),
              first->diagnostics.size());
  std::printf("  load all catalogs (first)      %8.1f ms   target < 1000 ms\n",
              first_ms);
  std::printf("  load all catalogs (median of 5) %7.1f ms   target < 1000 ms\n",
              ms[ms.size() / 2]);
  std::printf("  RSS after load                 %8.1f MiB  target < 200 MiB\n",
              mib(rss_after));
  std::printf("  RSS added by the load          %8.1f MiB\n",
              mib(rss_after - std::min(rss_after, rss_before)));
  std::printf("  offer table                    %8.1f MiB (%zu bytes per "
              "offer)\n",
              mib(offers * sizeof(offer)), sizeof(offer));
  return 0;
}
