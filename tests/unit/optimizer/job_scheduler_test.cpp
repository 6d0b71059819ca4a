#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "optimizer/cluster/job_scheduler.hpp"

using namespace sky;
using namespace sky::optimizer;

namespace {

job_request cpu_job(uint64_t id, double cpus, uint32_t nodes = 1) {
  job_request j;
  j.id = id;
  j.cpus = cpus;
  j.nodes = nodes;
  return j;
}

job_request gpu_job(uint64_t id, double gpus, std::string gpu = "A100",
                    uint32_t nodes = 1, double cpus = 0.5) {
  job_request j = cpu_job(id, cpus, nodes);
  j.gpu = std::move(gpu);
  j.gpus = gpus;
  return j;
}

node_shape cpu_node(double cpus, double memory_gib = 0) {
  return node_shape{cpus, memory_gib, "", 0};
}

node_shape gpu_node(double cpus, uint32_t devices, std::string gpu = "A100") {
  return node_shape{cpus, 0, std::move(gpu), devices};
}

std::vector<uint64_t> ids(const schedule_decision& d) {
  std::vector<uint64_t> out;
  for (const auto& p : d.start)
    out.push_back(p.id);
  return out;
}

using ids_t = std::vector<uint64_t>;
using ranks_t = std::vector<uint32_t>;
using devices_t = std::vector<std::vector<uint32_t>>;

// A cluster's queue driven by the scheduler the way its owner would:
// submit, decide, start, finish.
struct queue_sim {
  queue_sim(node_shape s, uint32_t n) : shape(std::move(s)), nodes(n) {}

  node_shape shape;
  uint32_t nodes = 1;
  std::vector<running_job> running;
  std::vector<job_request> pending;
  ids_t never_fit;

  void submit(job_request j) { pending.push_back(std::move(j)); }

  // One scheduling decision, applied. Returns the ids started.
  ids_t step() {
    auto d = schedule_jobs(shape, nodes, running, pending);
    for (auto& p : d.start) {
      auto it = std::find_if(pending.begin(), pending.end(),
                             [&](const auto& j) { return j.id == p.id; });
      REQUIRE(it != pending.end());
      running.push_back({*it, p});
      pending.erase(it);
    }
    for (auto id : d.never_fit) {
      never_fit.push_back(id);
      std::erase_if(pending, [&](const auto& j) { return j.id == id; });
    }
    return ids(d);
  }

  void finish(uint64_t id) {
    auto n = std::erase_if(running,
                           [&](const auto& r) { return r.request.id == id; });
    REQUIRE(n == 1);
  }

  const job_placement& where(uint64_t id) const {
    for (const auto& r : running)
      if (r.request.id == id)
        return r.placement;
    FAIL("job " << id << " is not running");
    throw; // unreachable: FAIL throws
  }
};

std::string why(const result<void>& r, errc code) {
  REQUIRE_FALSE(r);
  auto info = describe(r.error());
  CHECK(info.code == code);
  CHECK_FALSE(info.message.empty());
  return info.message;
}

} // namespace

// --- check_job_fits -------------------------------------------------------

TEST_CASE("check_job_fits accepts what an empty cluster can run") {
  auto n = gpu_node(8, 4);
  CHECK(check_job_fits(n, 2, cpu_job(1, 8)));
  CHECK(check_job_fits(n, 2, cpu_job(1, 0.5, 2)));
  CHECK(check_job_fits(n, 2, cpu_job(1, 0)));
  CHECK(check_job_fits(n, 2, gpu_job(1, 4)));
  CHECK(check_job_fits(n, 2, gpu_job(1, 0.5, "a100")));
  CHECK(check_job_fits(n, 1, gpu_job(1, 0.999)));
  // Memory is ignored when the shape does not track it...
  auto big_memory = cpu_job(1, 1);
  big_memory.memory_gib = 1000;
  CHECK(check_job_fits(n, 1, big_memory));
  // ...and compared when it does.
  CHECK(check_job_fits(cpu_node(4, 1000), 1, big_memory));
  // 2.0000000001 is two devices written with rounding noise.
  CHECK(check_job_fits(n, 1, gpu_job(1, 2.0000000001)));
}

TEST_CASE("check_job_fits refuses what exceeds the cluster, saying what") {
  auto n = gpu_node(4, 1);
  CHECK(why(check_job_fits(n, 1, cpu_job(1, 8)), errc::conflict)
        == "job needs 8 vCPUs per node, the cluster's nodes have 4");
  CHECK(why(check_job_fits(n, 1, cpu_job(1, 4.5)), errc::conflict)
        == "job needs 4.5 vCPUs per node, the cluster's nodes have 4");
  CHECK(why(check_job_fits(n, 2, cpu_job(1, 1, 3)), errc::conflict)
        == "job needs 3 nodes, the cluster has 2");
  CHECK(why(check_job_fits(n, 1, gpu_job(1, 2)), errc::conflict)
        == "job needs A100:2 per node, the cluster's nodes have 1 A100");
  CHECK(why(check_job_fits(n, 1, gpu_job(1, 1, "H100")), errc::conflict)
        == "job needs H100:1 per node, the cluster's nodes have 1 A100");
  CHECK(
    why(check_job_fits(cpu_node(4), 1, gpu_job(1, 0.5, "T4")), errc::conflict)
    == "job needs T4:0.5 per node, the cluster's nodes have no "
       "accelerators");
  auto mem = cpu_job(1, 1);
  mem.memory_gib = 64;
  CHECK(why(check_job_fits(cpu_node(4, 32), 1, mem), errc::conflict)
        == "job needs 64 GiB of memory per node, the cluster's nodes have 32 "
           "GiB");
  // The hint tells what to do.
  auto r = check_job_fits(n, 2, cpu_job(1, 1, 3));
  REQUIRE_FALSE(r);
  CHECK(describe(r.error()).hint.find("num_nodes: 3") != std::string::npos);
}

TEST_CASE("check_job_fits refuses malformed requests and shapes") {
  auto n = gpu_node(4, 2);
  CHECK(why(check_job_fits(n, 1, gpu_job(1, 1.5)), errc::invalid_argument)
        == "fractional GPUs must be < 1 or whole: 1.5");
  CHECK(why(check_job_fits(n, 1, cpu_job(1, 1, 0)), errc::invalid_argument)
        == "job needs at least 1 node");
  CHECK(why(check_job_fits(n, 1, cpu_job(1, -1)), errc::invalid_argument)
        == "job's vCPUs must be a number >= 0: -1");
  CHECK(
    why(check_job_fits(n, 1, cpu_job(1, std::nan(""))), errc::invalid_argument)
      .find("job's vCPUs must be a number")
    == 0);
  CHECK(why(check_job_fits(n, 1, gpu_job(1, 1, "")), errc::invalid_argument)
        == "job asks for 1 GPU without naming the accelerator");
  CHECK(why(check_job_fits(n, 1, gpu_job(1, 0)), errc::invalid_argument)
        == "job names accelerator A100 but asks for 0 of them");
  auto neg_mem = cpu_job(1, 1);
  neg_mem.memory_gib = -2;
  CHECK(why(check_job_fits(n, 1, neg_mem), errc::invalid_argument)
        == "job's memory must be a number >= 0: -2");
  // The node shape must be real: cpus 0 is not "unlimited".
  CHECK(
    why(check_job_fits(cpu_node(0), 1, cpu_job(1, 0)), errc::invalid_argument)
      .find("the cluster's nodes have no known vCPU count")
    == 0);
  CHECK(why(check_job_fits(n, 0, cpu_job(1, 1)), errc::invalid_argument)
        == "the cluster has no nodes");
}

// --- first in, first out --------------------------------------------------

TEST_CASE("50 one-vCPU jobs on a 4-vCPU node start 4 at a time, in order") {
  queue_sim q{cpu_node(4), 1};
  for (uint64_t id = 1; id <= 50; ++id)
    q.submit(cpu_job(id, 1));
  CHECK(q.step() == ids_t{1, 2, 3, 4});
  CHECK(q.step().empty()); // nothing changed, nothing starts
  q.finish(3);
  CHECK(q.step() == ids_t{5});
  q.finish(1);
  q.finish(5);
  CHECK(q.step() == ids_t{6, 7});
  // Drain finishing the newest first: starts stay in submission order.
  ids_t order{1, 2, 3, 4, 5, 6, 7};
  while (!q.running.empty()) {
    q.finish(q.running.back().request.id);
    for (auto id : q.step())
      order.push_back(id);
    CHECK(q.running.size() <= 4);
  }
  ids_t expected(50);
  std::iota(expected.begin(), expected.end(), uint64_t{1});
  CHECK(order == expected);
  CHECK(q.pending.empty());
}

TEST_CASE("the default 0.5 vCPU runs 8 jobs side by side on a 4-vCPU node") {
  queue_sim q{cpu_node(4), 1};
  for (uint64_t id = 1; id <= 10; ++id) {
    job_request j;
    j.id = id;
    q.submit(j);
  }
  CHECK(q.step() == ids_t{1, 2, 3, 4, 5, 6, 7, 8});
}

TEST_CASE("memory counts only when the node shape tracks it") {
  auto job = [](uint64_t id, double gib) {
    auto j = cpu_job(id, 0.5);
    j.memory_gib = gib;
    return j;
  };
  SECTION("tracked") {
    queue_sim q{cpu_node(8, 16), 1};
    q.submit(job(1, 10));
    q.submit(job(2, 10));
    q.submit(job(3, 6));
    q.submit(job(4, 0)); // no memory demand: never blocked by memory
    CHECK(q.step() == ids_t{1, 3, 4});
  }
  SECTION("not tracked (memory_gib 0): demands are ignored") {
    queue_sim q{cpu_node(8, 0), 1};
    q.submit(job(1, 10));
    q.submit(job(2, 10));
    q.submit(job(3, 6));
    CHECK(q.step() == ids_t{1, 2, 3});
  }
}

// --- GPUs -------------------------------------------------------------------

TEST_CASE("two half GPUs share one device, 0.5 and 0.7 cannot") {
  SECTION("halves share") {
    queue_sim q{gpu_node(8, 1), 1};
    q.submit(gpu_job(1, 0.5));
    q.submit(gpu_job(2, 0.5));
    q.submit(gpu_job(3, 0.5));
    CHECK(q.step() == ids_t{1, 2});
    CHECK(q.where(1).devices == devices_t{{0}});
    CHECK(q.where(2).devices == devices_t{{0}});
    CHECK(q.where(2).device_share == 0.5);
    CHECK(cuda_visible_devices(q.where(2), 0) == "0");
    q.finish(1);
    CHECK(q.step() == ids_t{3});
  }
  SECTION("0.5 + 0.7 do not fit one device") {
    queue_sim q{gpu_node(8, 1), 1};
    q.submit(gpu_job(1, 0.5));
    q.submit(gpu_job(2, 0.7));
    CHECK(q.step() == ids_t{1});
    SECTION("a second device takes the 0.7") {
      q.shape.gpu_devices = 2;
      CHECK(q.step() == ids_t{2});
      CHECK(q.where(2).devices == devices_t{{1}});
    }
  }
}

TEST_CASE("shares that add up to one fill a device exactly") {
  auto fill = [](double share, int count) {
    queue_sim q{gpu_node(64, 1), 1};
    for (int i = 1; i <= count + 1; ++i)
      q.submit(gpu_job(i, share));
    return q.step().size();
  };
  CHECK(fill(0.5, 2) == 2);
  CHECK(fill(0.1, 10) == 10); // 0.1 * 10 is 0.9999999999999999
  CHECK(fill(1.0 / 3, 3) == 3);
  CHECK(fill(0.25, 4) == 4);
  queue_sim q{gpu_node(8, 1), 1};
  q.submit(gpu_job(1, 0.3));
  q.submit(gpu_job(2, 0.7));
  q.submit(gpu_job(3, 0.01));
  CHECK(q.step() == ids_t{1, 2});
}

TEST_CASE("a fractional GPU packs onto the fullest device that has room") {
  queue_sim q{gpu_node(16, 3), 1};
  q.submit(gpu_job(1, 0.25));
  q.submit(gpu_job(2, 0.6));
  CHECK(q.step() == ids_t{1, 2});
  // Both packed onto device 0 (0.25 + 0.6), leaving 1 and 2 whole.
  CHECK(q.where(2).devices == devices_t{{0}});
  q.finish(2);
  q.submit(gpu_job(3, 0.5)); // device 0 (0.25 used) has room
  q.submit(gpu_job(4, 1));   // whole: lowest free device
  q.submit(gpu_job(5, 0.5)); // device 0 is full at 0.75 + 0.5: device 2
  q.submit(gpu_job(6, 0.4)); // fuller of 0 (0.75, no room) and 2 (0.5)
  CHECK(q.step() == ids_t{3, 4, 5, 6});
  CHECK(q.where(3).devices == devices_t{{0}});
  CHECK(q.where(4).devices == devices_t{{1}});
  CHECK(q.where(5).devices == devices_t{{2}});
  CHECK(q.where(6).devices == devices_t{{2}});
  CHECK(q.where(4).device_share == 1);
  CHECK(q.where(6).device_share == Approx(0.4));
  // Devices 0 (0.75) and 2 (0.9) both have room for 0.1: the fuller wins
  // over the lower index.
  q.submit(gpu_job(7, 0.1));
  CHECK(q.step() == ids_t{7});
  CHECK(q.where(7).devices == devices_t{{2}});
}

TEST_CASE("whole GPUs take the lowest free devices") {
  queue_sim q{gpu_node(16, 4), 1};
  q.submit(gpu_job(1, 2));
  q.submit(gpu_job(2, 1));
  CHECK(q.step() == ids_t{1, 2});
  CHECK(q.where(1).devices == devices_t{{0, 1}});
  CHECK(cuda_visible_devices(q.where(1), 0) == "0,1");
  CHECK(cuda_visible_devices(q.where(2), 0) == "2");
  q.finish(1);
  q.submit(gpu_job(3, 0.5)); // lowest free device: 0
  q.submit(gpu_job(4, 2));   // device 0 is shared: 1 and 3
  CHECK(q.step() == ids_t{3, 4});
  CHECK(q.where(3).devices == devices_t{{0}});
  CHECK(cuda_visible_devices(q.where(4), 0) == "1,3");
  // A whole device is never one somebody else holds a share of.
  q.submit(gpu_job(5, 1));
  CHECK(q.step().empty());
  q.finish(3);
  CHECK(q.step() == ids_t{5});
  CHECK(cuda_visible_devices(q.where(5), 0) == "0");
}

TEST_CASE("jobs without GPUs get no devices") {
  queue_sim q{gpu_node(4, 2), 1};
  q.submit(cpu_job(1, 1));
  CHECK(q.step() == ids_t{1});
  CHECK(q.where(1).devices == devices_t{{}});
  CHECK(q.where(1).device_share == 0);
  CHECK(cuda_visible_devices(q.where(1), 0).empty());
  CHECK(cuda_visible_devices(q.where(1), 7).empty());
}

// --- nodes ------------------------------------------------------------------

TEST_CASE("multi-node jobs take the lowest ranks with room, head first") {
  queue_sim q{gpu_node(4, 2), 3};
  q.submit(cpu_job(1, 4));               // fills the head
  q.submit(gpu_job(2, 1, "A100", 2, 2)); // ranks 1 and 2
  q.submit(cpu_job(3, 0.5));             // head is full: rank 1
  q.submit(gpu_job(4, 2, "A100", 2, 1)); // one free device on 1 and 2: waits
  CHECK(q.step() == ids_t{1, 2, 3});
  CHECK(q.where(1).ranks == ranks_t{0});
  CHECK(q.where(2).ranks == ranks_t{1, 2});
  CHECK(q.where(2).devices == devices_t{{0}, {0}});
  CHECK(cuda_visible_devices(q.where(2), 1) == "0");
  CHECK(q.where(3).ranks == ranks_t{1});
  q.finish(1);
  CHECK(q.step().empty()); // job 4 needs 2 nodes with 2 free devices
  q.finish(2);
  CHECK(q.step() == ids_t{4});
  CHECK(q.where(4).ranks == ranks_t{0, 1});
  CHECK(q.where(4).devices == devices_t{{0, 1}, {0, 1}});
}

TEST_CASE("a one-node job lands on the head when the head has room") {
  queue_sim q{cpu_node(4), 4};
  q.submit(cpu_job(1, 1));
  q.submit(cpu_job(2, 1));
  CHECK(q.step() == ids_t{1, 2});
  CHECK(q.where(1).ranks == ranks_t{0});
  CHECK(q.where(2).ranks == ranks_t{0});
}

// --- order and backfill -----------------------------------------------------

TEST_CASE("a later job starts first only when it cannot delay the earlier") {
  // Two 4-vCPU nodes; job 1 holds 3 vCPUs of the head. Job 2 needs 2 vCPUs
  // on both nodes and must wait for job 1.
  queue_sim q{cpu_node(4), 2};
  q.submit(cpu_job(1, 3));
  CHECK(q.step() == ids_t{1});
  q.submit(cpu_job(2, 2, 2));
  q.submit(cpu_job(3, 1));   // head 3+1: job 2 still fits next to it alone
  q.submit(cpu_job(4, 2));   // rank 1: 2 left there, job 2 still fits
  q.submit(cpu_job(5, 2));   // fits now (rank 1), but would take job 2's room
  q.submit(cpu_job(6, 0.5)); // the same: rank 1 would keep only 1.5
  CHECK(q.step() == ids_t{3, 4});
  CHECK(q.where(3).ranks == ranks_t{0});
  CHECK(q.where(4).ranks == ranks_t{1});
  // Job 2 waited only for job 1, which ran before it was submitted. Job 6
  // then fits on the head without delaying job 5.
  q.finish(1);
  CHECK(q.step() == ids_t{2, 6});
  CHECK(q.where(2).ranks == ranks_t{0, 1});
  CHECK(q.where(6).ranks == ranks_t{0});
}

TEST_CASE("a later job that would take what the waiting job needs waits") {
  // One node: a waiting job that needs the whole node lets nothing pass.
  queue_sim q{gpu_node(8, 4), 1};
  q.submit(gpu_job(1, 2));
  CHECK(q.step() == ids_t{1});
  q.submit(gpu_job(2, 4)); // waits for job 1
  q.submit(gpu_job(3, 1)); // two devices are free, but job 2 needs them
  q.submit(cpu_job(4, 1)); // vCPUs only: job 2 needs just 0.5 of 8
  CHECK(q.step() == ids_t{4});
  q.finish(1);
  CHECK(q.step() == ids_t{2});
  q.finish(2);
  CHECK(q.step() == ids_t{3});
}

TEST_CASE("backfill protection holds across decisions") {
  // Job 3 needs 3 vCPUs on both nodes and waits for job 2. Job 4 may go to
  // the head next to it, but job 5, in a later decision, would leave the
  // head with only 2 vCPUs once job 2 ends: job 3 would then wait for later
  // jobs. Checking only the jobs started in the same decision would let
  // job 5 in.
  queue_sim q{cpu_node(4), 2};
  q.submit(cpu_job(1, 4));
  q.submit(cpu_job(2, 2));
  CHECK(q.step() == ids_t{1, 2});
  CHECK(q.where(2).ranks == ranks_t{1});
  q.finish(1);
  q.submit(cpu_job(3, 3, 2)); // rank 1 has 2 free: waits for job 2
  q.submit(cpu_job(4, 1));    // head 1: job 3 fits next to it
  CHECK(q.step() == ids_t{4});
  q.submit(cpu_job(5, 1)); // head 1+1: job 3 would lose the head
  CHECK(q.step().empty());
  q.finish(2);
  CHECK(q.step() == ids_t{3, 5});
  CHECK(q.where(3).ranks == ranks_t{0, 1});
  CHECK(q.where(5).ranks == ranks_t{1});
}

TEST_CASE("every waiting earlier job is protected, including held-back ones") {
  SECTION("the second waiting job refuses what the first would allow") {
    // Two 4-vCPU nodes: job 1 fills the head, job 2 holds 2 of rank 1.
    queue_sim q{cpu_node(4), 2};
    q.submit(cpu_job(1, 4));
    q.submit(cpu_job(2, 2));
    CHECK(q.step() == ids_t{1, 2});
    CHECK(q.where(2).ranks == ranks_t{1});
    q.submit(cpu_job(3, 4));    // one whole node: waits for job 1 or 2
    q.submit(cpu_job(4, 3, 2)); // 3 on both nodes: waits for 1 and 2
    // On rank 1, job 5 would not delay job 3 (the head will be free) but
    // would leave rank 1 with 2 < 3 for job 4.
    q.submit(cpu_job(5, 2));
    q.submit(cpu_job(6, 1)); // rank 1 keeps 3: delays neither
    CHECK(q.step() == ids_t{6});
    q.finish(1);
    CHECK(q.step() == ids_t{3});
    CHECK(q.where(3).ranks == ranks_t{0});
  }
  SECTION("a job held back by the rule protects the jobs after it") {
    // Each node: 4 vCPUs, 1 GPU. Job 1 holds 2 vCPUs of the head.
    queue_sim q{gpu_node(4, 1), 2};
    q.submit(cpu_job(1, 2));
    CHECK(q.step() == ids_t{1});
    q.submit(cpu_job(2, 3, 2));            // waits for job 1
    q.submit(gpu_job(3, 1, "A100", 2, 2)); // fits now, would delay job 2
    // Job 4 would not delay job 2 (head keeps 3.5 vCPUs), but it takes
    // the head's GPU, which job 3 needs: job 3 waits only for job 1.
    q.submit(gpu_job(4, 1, "A100", 1, 0.5));
    q.submit(cpu_job(5, 0.5)); // delays neither: head 2.5, rank 1 free
    CHECK(q.step() == ids_t{5});
    q.finish(1);
    CHECK(q.step() == ids_t{2});
    q.finish(2);
    CHECK(q.step() == ids_t{3});
    CHECK(q.where(3).ranks == ranks_t{0, 1});
  }
}

TEST_CASE("backfill does not promise strict FIFO's start times") {
  // The rule bounds whom a job waits for (jobs submitted before it), not
  // when it starts compared with strict FIFO. Here job 3 fits next to job
  // 4 alone and next to job 1 alone, but not next to both: when job 2 ends
  // first, strict FIFO would start job 3; with job 4 backfilled it waits
  // for job 1 (an earlier job). Documented in docs/JOBS.md.
  queue_sim q{cpu_node(4), 1};
  q.submit(cpu_job(1, 1));
  q.submit(cpu_job(2, 1.5));
  q.submit(cpu_job(3, 2));
  q.submit(cpu_job(4, 1.5));
  CHECK(q.step() == ids_t{1, 2, 4});
  q.finish(2);
  CHECK(q.step().empty()); // strict FIFO would start 3 here
  q.finish(1);
  CHECK(q.step() == ids_t{3});
}

TEST_CASE("the examples of docs/JOBS.md") {
  SECTION("backfill allowed and refused on 8 A100s") {
    queue_sim q{gpu_node(96, 8), 1};
    q.submit(gpu_job(1, 4));
    CHECK(q.step() == ids_t{1});
    q.submit(gpu_job(2, 6));
    q.submit(gpu_job(3, 2));
    q.submit(gpu_job(4, 1));
    q.submit(cpu_job(5, 0.5));
    CHECK(q.step() == ids_t{3, 5});
    q.finish(1);
    CHECK(q.step() == ids_t{2});
    CHECK(q.step().empty());
  }
  SECTION("a job can start later than under strict FIFO") {
    queue_sim q{gpu_node(96, 8), 1};
    for (auto [id, gpus] : {std::pair{1, 2}, {2, 3}, {3, 4}, {4, 3}})
      q.submit(gpu_job(id, gpus));
    CHECK(q.step() == ids_t{1, 2, 4});
    q.finish(2);
    CHECK(q.step().empty());
    q.finish(1);
    CHECK(q.step() == ids_t{3});
  }
}

TEST_CASE("jobs that can never fit are reported and hold up nobody") {
  queue_sim q{gpu_node(4, 1), 1};
  q.submit(cpu_job(1, 8));
  q.submit(gpu_job(2, 1, "H100"));
  q.submit(gpu_job(3, 1.5));
  q.submit(cpu_job(4, 4));
  auto d = schedule_jobs(q.shape, q.nodes, q.running, q.pending);
  CHECK(ids(d) == ids_t{4});
  CHECK(d.never_fit == ids_t{1, 2, 3});
}

TEST_CASE("the decision depends on ids, not on the order of the inputs") {
  auto shape = gpu_node(8, 2);
  std::vector<job_request> pending;
  for (uint64_t id = 1; id <= 12; ++id)
    pending.push_back(id % 3 == 0 ? gpu_job(id, 0.5)
                                  : cpu_job(id, 1.0 + (id % 4)));
  auto a = schedule_jobs(shape, 2, {}, pending);
  std::reverse(pending.begin(), pending.end());
  auto b = schedule_jobs(shape, 2, {}, pending);
  REQUIRE(a.start.size() == b.start.size());
  for (size_t i = 0; i < a.start.size(); ++i) {
    CHECK(a.start[i].id == b.start[i].id);
    CHECK(a.start[i].ranks == b.start[i].ranks);
    CHECK(a.start[i].devices == b.start[i].devices);
  }
  auto started = ids(a);
  CHECK(std::is_sorted(started.begin(), started.end()));
}

// --- usage ------------------------------------------------------------------

TEST_CASE("usage shows what the running jobs leave free per node") {
  node_shape shape{8, 32, "A100", 2};
  std::vector<running_job> running;
  auto add
    = [&](job_request j, ranks_t ranks, devices_t devices, double share) {
        running.push_back({j, {j.id, ranks, devices, share}});
      };
  auto big = cpu_job(7, 2, 2);
  big.memory_gib = 10;
  add(big, {0, 1}, {{}, {}}, 0);
  add(gpu_job(3, 0.5), {0}, {{1}}, 0.5);
  add(gpu_job(5, 1), {1}, {{0}}, 1);
  add(gpu_job(9, 1), {5}, {{0}}, 1); // rank 5 does not exist: ignored
  auto u = usage(shape, 2, running);
  REQUIRE(u.size() == 2);
  CHECK(u[0].rank == 0);
  CHECK(u[0].cpus_free == Approx(5.5));
  CHECK(u[0].memory_gib_free == Approx(22));
  CHECK(u[0].device_free == std::vector<double>{1, 0.5});
  CHECK(u[0].jobs == ids_t{3, 7});
  CHECK(u[1].cpus_free == Approx(5.5));
  CHECK(u[1].device_free == std::vector<double>{0, 1});
  CHECK(u[1].jobs == ids_t{5, 7});
  // Without memory tracking, free memory reads 0.
  shape.memory_gib = 0;
  CHECK(usage(shape, 2, running)[0].memory_gib_free == 0);
}

// --- property: random workloads run to completion ---------------------------

namespace {

// An independent model of capacity, written without the scheduler's code:
// per node the sums of what its jobs hold.
struct model_node {
  double cpus = 0;
  double memory = 0;
  std::vector<double> devices;
};

std::vector<model_node> model_load(const node_shape& shape, uint32_t nodes,
                                   const std::vector<running_job>& jobs) {
  std::vector<model_node> out(
    nodes, model_node{0, 0, std::vector<double>(shape.gpu_devices)});
  for (const auto& j : jobs)
    for (size_t i = 0; i < j.placement.ranks.size(); ++i) {
      auto& n = out.at(j.placement.ranks[i]);
      n.cpus += j.request.cpus;
      n.memory += j.request.memory_gib;
      for (auto d : j.placement.devices.at(i))
        n.devices.at(d) += j.placement.device_share;
    }
  return out;
}

bool model_node_fits(const node_shape& shape, const model_node& n,
                     const job_request& j) {
  const double tol = 1e-7;
  if (n.cpus + j.cpus > shape.cpus + tol)
    return false;
  if (shape.memory_gib > 0 && n.memory + j.memory_gib > shape.memory_gib + tol)
    return false;
  if (j.gpus >= 1) {
    int free = 0;
    for (double d : n.devices)
      free += d < tol ? 1 : 0;
    return free >= std::lround(j.gpus);
  }
  if (j.gpus > 0)
    return std::any_of(n.devices.begin(), n.devices.end(),
                       [&](double d) { return d + j.gpus <= 1 + tol; });
  return true;
}

// Is there any placement of `j` next to `jobs`?
bool model_fits(const node_shape& shape, uint32_t nodes,
                const std::vector<running_job>& jobs, const job_request& j) {
  uint32_t fitting = 0;
  for (const auto& n : model_load(shape, nodes, jobs))
    fitting += model_node_fits(shape, n, j) ? 1 : 0;
  return fitting >= j.nodes;
}

struct workload {
  node_shape shape;
  uint32_t nodes = 1;
  std::vector<job_request> jobs;
};

workload random_workload(std::mt19937_64& rng) {
  auto pick = [&](auto const& options) {
    return options[std::uniform_int_distribution<size_t>(0, options.size()
                                                              - 1)(rng)];
  };
  auto chance = [&](double p) {
    return std::uniform_real_distribution<double>(0, 1)(rng) < p;
  };
  workload w;
  w.nodes = pick(std::vector<uint32_t>{1, 1, 2, 3, 4});
  w.shape.cpus = pick(std::vector<double>{2, 4, 8});
  w.shape.memory_gib = pick(std::vector<double>{0, 16, 32});
  if (chance(0.7)) {
    w.shape.gpu = "A100";
    w.shape.gpu_devices = pick(std::vector<uint32_t>{1, 2, 4, 8});
  }
  auto count = std::uniform_int_distribution<int>(20, 70)(rng);
  for (int i = 0; i < count; ++i) {
    job_request j;
    j.id = static_cast<uint64_t>(i + 1);
    j.nodes = chance(0.7)
                ? 1
                : std::uniform_int_distribution<uint32_t>(1, w.nodes)(rng);
    j.cpus = pick(std::vector<double>{0, 0.5, 0.5, 1, 1.5, 2, w.shape.cpus});
    if (chance(0.3))
      j.memory_gib = pick(std::vector<double>{1, 4, 8, 16});
    if (w.shape.gpu_devices > 0 && chance(0.6)) {
      j.gpu = chance(0.5) ? "A100" : "a100";
      if (chance(0.5))
        j.gpus = pick(std::vector<double>{0.1, 0.25, 1.0 / 3, 0.5, 0.7});
      else
        j.gpus = std::uniform_int_distribution<uint32_t>(
          1, w.shape.gpu_devices)(rng);
    }
    // A few that can never run here: they must be reported, not queued.
    if (chance(0.04))
      j.cpus = w.shape.cpus * 2;
    if (chance(0.03))
      j.nodes = w.nodes + 1;
    w.jobs.push_back(j);
  }
  return w;
}

struct property_stats {
  int started = 0;
  int backfilled = 0; // started while an earlier job was pending
  int held_back = 0;  // waiting jobs (per decision) that fit the free room
  int never_fit = 0;
  int decisions = 0;
};

// Checks each started placement in decision order against the load left by
// the jobs before it: well formed, lowest ranks, lowest whole devices, and
// fractional shares packed as documented.
void check_placements(const workload& w, std::vector<running_job> load,
                      const std::vector<job_request>& pending,
                      const schedule_decision& d) {
  for (const auto& p : d.start) {
    auto it = std::find_if(pending.begin(), pending.end(),
                           [&](const auto& j) { return j.id == p.id; });
    REQUIRE(it != pending.end());
    const auto& j = *it;
    INFO("job " << j.id);
    REQUIRE(p.ranks.size() == j.nodes);
    REQUIRE(p.devices.size() == j.nodes);
    REQUIRE(std::is_sorted(p.ranks.begin(), p.ranks.end()));
    REQUIRE(std::adjacent_find(p.ranks.begin(), p.ranks.end())
            == p.ranks.end());
    auto before = model_load(w.shape, w.nodes, load);
    // Lowest ranks: every skipped rank below the last chosen had no room.
    for (uint32_t r = 0; r < p.ranks.back(); ++r)
      if (std::find(p.ranks.begin(), p.ranks.end(), r) == p.ranks.end())
        CHECK_FALSE(model_node_fits(w.shape, before.at(r), j));
    for (size_t i = 0; i < p.ranks.size(); ++i) {
      const auto& devs = p.devices[i];
      const auto& used = before.at(p.ranks[i]).devices;
      if (j.gpus >= 1) {
        CHECK(p.device_share == 1);
        std::vector<uint32_t> lowest_free;
        for (uint32_t dev = 0; dev < used.size(); ++dev)
          if (used[dev] < 1e-7
              && lowest_free.size() < static_cast<size_t>(std::lround(j.gpus)))
            lowest_free.push_back(dev);
        CHECK(devs == lowest_free);
      } else if (j.gpus > 0) {
        CHECK(p.device_share == j.gpus);
        REQUIRE(devs.size() == 1);
        // Packing: the chosen device is the fullest with room; a free one
        // only when no shared device has room, and then the lowest.
        double best = -1;
        for (double u : used)
          if (u + j.gpus <= 1 + 1e-7 && u > 1e-7)
            best = std::max(best, u);
        if (best > 0) {
          CHECK(used.at(devs[0]) == Approx(best));
        } else {
          auto first_free = std::find_if(used.begin(), used.end(),
                                         [](double u) { return u < 1e-7; });
          CHECK(devs[0] == static_cast<uint32_t>(first_free - used.begin()));
        }
      } else {
        CHECK(devs.empty());
        CHECK(p.device_share == 0);
      }
    }
    load.push_back({j, p});
  }
}

void run_workload(uint64_t seed, property_stats& stats) {
  std::mt19937_64 rng(seed);
  auto w = random_workload(rng);
  INFO("seed " << seed << ": " << w.nodes << " nodes x " << w.shape.cpus
               << " vCPUs, " << w.shape.memory_gib << " GiB, "
               << w.shape.gpu_devices << " GPUs; " << w.jobs.size() << " jobs");

  std::vector<running_job> running;
  std::vector<job_request> pending;
  std::map<uint64_t, int> start_step;
  std::set<uint64_t> refused;
  std::set<uint64_t> finished;
  size_t submitted = 0;

  for (int step = 0; step < 10000; ++step) {
    // Jobs arrive a few at a time and finish in random order.
    const bool submit
      = submitted < w.jobs.size()
        && (running.empty() || std::bernoulli_distribution(0.5)(rng));
    if (submit) {
      auto n = std::uniform_int_distribution<size_t>(1, 3)(rng);
      for (size_t i = 0; i < n && submitted < w.jobs.size(); ++i)
        pending.push_back(w.jobs[submitted++]);
    } else if (!running.empty()) {
      auto i
        = std::uniform_int_distribution<size_t>(0, running.size() - 1)(rng);
      finished.insert(running[i].request.id);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
    } else if (pending.empty()) {
      break; // everything submitted has run
    }

    auto d = schedule_jobs(w.shape, w.nodes, running, pending);
    ++stats.decisions;
    INFO("step " << step);

    // Deterministic: shuffled inputs give the same decision.
    {
      auto r2 = running;
      auto p2 = pending;
      std::shuffle(r2.begin(), r2.end(), rng);
      std::shuffle(p2.begin(), p2.end(), rng);
      auto d2 = schedule_jobs(w.shape, w.nodes, r2, p2);
      REQUIRE(ids(d2) == ids(d));
      for (size_t i = 0; i < d.start.size(); ++i) {
        CHECK(d2.start[i].ranks == d.start[i].ranks);
        CHECK(d2.start[i].devices == d.start[i].devices);
      }
      CHECK(d2.never_fit == d.never_fit);
    }

    // Refusals are exactly the jobs check_job_fits refuses.
    ids_t expect_never;
    for (const auto& j : pending)
      if (!check_job_fits(w.shape, w.nodes, j))
        expect_never.push_back(j.id);
    std::sort(expect_never.begin(), expect_never.end());
    REQUIRE(d.never_fit == expect_never);
    const auto started = ids(d);
    REQUIRE(std::is_sorted(started.begin(), started.end()));

    check_placements(w, running, pending, d);

    // Did each start pass an earlier pending job (backfill)?
    for (const auto& p : d.start) {
      bool passed = std::any_of(pending.begin(), pending.end(), [&](auto& j) {
        return j.id < p.id
               && std::find(d.never_fit.begin(), d.never_fit.end(), j.id)
                    == d.never_fit.end()
               && std::none_of(d.start.begin(), d.start.end(),
                               [&](auto& s) { return s.id == j.id; });
      });
      stats.backfilled += passed ? 1 : 0;
    }

    for (const auto& p : d.start) {
      auto it = std::find_if(pending.begin(), pending.end(),
                             [&](const auto& j) { return j.id == p.id; });
      running.push_back({*it, p});
      start_step[p.id] = step;
      pending.erase(it);
      ++stats.started;
    }
    for (auto id : d.never_fit) {
      refused.insert(id);
      std::erase_if(pending, [&](const auto& j) { return j.id == id; });
      ++stats.never_fit;
    }

    // (a) Capacity is never exceeded, on any node or device.
    for (const auto& n : model_load(w.shape, w.nodes, running)) {
      REQUIRE(n.cpus <= w.shape.cpus + 1e-7);
      if (w.shape.memory_gib > 0)
        REQUIRE(n.memory <= w.shape.memory_gib + 1e-7);
      for (double dev : n.devices)
        REQUIRE(dev <= 1 + 1e-7);
    }
    // ...and a whole device is held by one job only, never shared.
    std::map<std::pair<uint32_t, uint32_t>, std::pair<int, int>> holders;
    for (const auto& r : running)
      for (size_t i = 0; i < r.placement.ranks.size(); ++i)
        for (auto dev : r.placement.devices[i]) {
          auto& [whole, shares] = holders[{r.placement.ranks[i], dev}];
          (r.placement.device_share == 1 ? whole : shares) += 1;
        }
    for (const auto& [where, count] : holders)
      REQUIRE((count.first == 0 || (count.first == 1 && count.second == 0)));

    // (b) The first waiting job waits because it does not fit, not for
    // lack of trying.
    if (!pending.empty()) {
      auto head = *std::min_element(
        pending.begin(), pending.end(),
        [](const auto& a, const auto& b) { return a.id < b.id; });
      INFO("head of the queue: job " << head.id);
      REQUIRE_FALSE(model_fits(w.shape, w.nodes, running, head));
    }

    for (const auto& e : pending) {
      INFO("waiting job " << e.id);
      // (c) The backfill rule, after the decision: every waiting job fits
      // next to all the running jobs submitted after it. So it waits only
      // for jobs submitted before it.
      std::vector<running_job> later;
      for (const auto& r : running)
        if (r.request.id > e.id)
          later.push_back(r);
      REQUIRE(model_fits(w.shape, w.nodes, later, e));
      // (d) Hence no job waits once every earlier job has ended: something
      // submitted before it is still running or waiting.
      bool earlier_alive
        = std::any_of(running.begin(), running.end(),
                      [&](auto& r) { return r.request.id < e.id; })
          || std::any_of(pending.begin(), pending.end(),
                         [&](auto& j) { return j.id < e.id; });
      REQUIRE(earlier_alive);
      // Held back by the rule: it fits the free capacity right now.
      if (model_fits(w.shape, w.nodes, running, e))
        ++stats.held_back;
    }
  }

  // (e) Every job that fits the cluster started exactly once and ran to
  // the end; every other one was refused and never started.
  REQUIRE(pending.empty());
  REQUIRE(running.empty());
  for (const auto& j : w.jobs) {
    INFO("job " << j.id);
    const bool fits = static_cast<bool>(check_job_fits(w.shape, w.nodes, j));
    CHECK(fits == (start_step.count(j.id) == 1));
    CHECK(fits == (finished.count(j.id) == 1));
    CHECK(fits != (refused.count(j.id) == 1));
  }
}

} // namespace

TEST_CASE("random workloads: capacity holds, nobody waits for later jobs") {
  property_stats stats;
  for (uint64_t seed = 1; seed <= 300; ++seed)
    run_workload(seed, stats);
  // The workloads must exercise what the properties are about, or the
  // checks above would pass vacuously. (Seeds 1..300 give about 12,000
  // starts, 3,900 of them backfilled.)
  INFO(stats.started << " started, " << stats.backfilled << " backfilled, "
                     << stats.held_back << " held back by the rule, "
                     << stats.never_fit << " refused, " << stats.decisions
                     << " decisions");
  CHECK(stats.started > 5000);
  CHECK(stats.backfilled > 1000);
  CHECK(stats.held_back > 1000);
  CHECK(stats.never_fit > 100);
}
