// The msgpack codec: exact round trips over every field, and errors (never
// exceptions) for garbage.

#include "task_test_util.hpp"

#include <random>

#include "messages/msgpack_util.hpp"
#include "messages/task/task_codec.hpp"

using namespace sky;
using namespace sky::task;
using sky::task::testing::parse_ok;

namespace {

// A task with every field set to a value that differs from its default.
task_spec full_task() {
  task_spec t;
  t.name = "full";
  t.workdir = workdir_spec{"", "https://github.com/o/r", "v1"};
  t.num_nodes = 3;
  auto& r = t.resources;
  r.infra = infra_spec{"aws", "us-east-1", "us-east-1a"};
  r.cpus = cpus_spec{4.5, true};
  r.memory = memory_spec{2, memory_spec::kind::per_cpu};
  accelerator_spec by_mem;
  by_mem.min_memory_gib = 80;
  by_mem.memory_exact = true;
  by_mem.manufacturer = "NVIDIA";
  by_mem.count = 0.5;
  r.accelerators
    = {accelerator_spec{"A100", 8, std::nullopt, false, ""}, by_mem};
  r.accelerator_order = choice_order::ordered;
  r.accelerator_args = {{"runtime_version", "tpu-vm-base"}};
  r.instance_type = "p4d.24xlarge";
  r.use_spot = false;
  r.disk_size_gb = 512;
  r.disk_tier = "ultra";
  r.network_tier = "best";
  r.ports = {{22, 22}, {8000, 8100}, {65535, 65535}};
  r.image_id = "docker:img";
  r.image_id_by_region = {{"us-east-1", "ami-1"}};
  r.max_hourly_cost = 12.25;
  r.job_recovery = job_recovery_spec{"FAILOVER", 7, {1, 255}};
  r.autostop = autostop_spec{false, 90, true, "jobs"};
  r.priority = -1000;
  r.labels = {{"a", "b"}, {"c", ""}};
  resources_spec alt;
  alt.infra = infra_spec{"k8s", "ctx/with/slashes", ""};
  alt.use_spot = true;
  resources_spec alt2;
  alt2.cpus = cpus_spec{1, false};
  r.any_of = {alt};
  r.ordered = {alt2, alt};
  t.envs = {{"Z", "1"}, {"A", std::nullopt}, {"EMPTY", ""}};
  t.secrets = {{"TOKEN", "s"}, {"LATER", std::nullopt}};
  t.file_mounts = {{"/a", "./a", "", "", "", std::nullopt},
                   {"/b", "s3://b", "MOUNT_CACHED", "bucket", "s3", true}};
  t.setup = "echo setup\n";
  t.run = "echo \xe2\x9c\x93 \"run\"\n";
  service_spec s;
  s.readiness_probe.path = "/v1/models";
  s.readiness_probe.post_data = "{\"a\":1}";
  s.readiness_probe.initial_delay_seconds = 30;
  s.readiness_probe.timeout_seconds = 3;
  s.readiness_probe.headers = {{"Authorization", "Bearer x"}};
  s.replica_policy = replica_policy_spec{0, 9, 0.25, 1, 2, 3, 4, false};
  s.load_balancing_policy = "round_robin";
  s.port = 8080;
  s.consecutive_failure_threshold_timeout_seconds = 17;
  t.service = s;
  t.config = {{"kubernetes.pod_config.spec.x", "1"}, {"a", "null"}};
  t.position = source_position{"dir/task.yaml", 12, 3};
  return t;
}

} // namespace

TEST_CASE("a task with every field round-trips exactly") {
  const auto t = full_task();
  auto bytes = encode_task(t);
  auto back = decode_task(bytes);
  REQUIRE(back);
  CHECK(*back == t);
  // Spot-check that equality really covers nested fields.
  CHECK(back->resources.ordered[1].infra->region == "ctx/with/slashes");
  CHECK(back->service->replica_policy.target_qps_per_replica == 0.25);
}

TEST_CASE("defaults and empty optionals round-trip") {
  task_spec empty;
  auto back = decode_task(encode_task(empty));
  REQUIRE(back);
  CHECK(*back == empty);
  pipeline_spec none;
  auto p = decode_pipeline(encode_pipeline(none));
  REQUIRE(p);
  CHECK(*p == none);
}

TEST_CASE("pipelines round-trip, including parsed fixtures") {
  pipeline_spec p;
  p.name = "chain";
  p.tasks = {full_task(), task_spec{}, full_task()};
  p.tasks[2].name = "third";
  auto back = decode_pipeline(encode_pipeline(p));
  REQUIRE(back);
  CHECK(*back == p);

  auto parsed = parse_ok(R"(name: c
---
resources: {accelerators: {A100: 1, L4: 2}, ports: [1, 2-3], memory: 4x}
envs: {A: , B: x}
service: {readiness_probe: /h, replicas: 2}
config: {a: {b: [1, {c: d}]}}
run: r
---
resources: {ordered: [{infra: '*/eu-west-1'}, {cloud: azure}]}
)");
  auto again = decode_pipeline(encode_pipeline(parsed));
  REQUIRE(again);
  CHECK(*again == parsed);
}

TEST_CASE("the encoding is a map keyed by field names") {
  auto bytes = encode_pipeline(parse_ok("name: n\nrun: r\n"));
  auto handle = decode_document(bytes, "test");
  REQUIRE(handle);
  const auto& root = handle->get();
  REQUIRE(root.type == msgpack::type::MAP);
  const auto* format = find_key(root, "format");
  REQUIRE(format);
  CHECK(format->as<int>() == task_codec_format);
  const auto* tasks = find_key(root, "tasks");
  REQUIRE(tasks);
  REQUIRE(tasks->type == msgpack::type::ARRAY);
  const auto* run = find_key(tasks->via.array.ptr[0], "run");
  REQUIRE(run);
  CHECK(run->as<std::string>() == "r");
  // Absent optionals are absent keys.
  CHECK(find_key(tasks->via.array.ptr[0], "setup") == nullptr);
  // Enums travel by name.
  auto acc = encode_task(
    parse_ok("resources: {accelerators: [A:1, B:1], memory: 2+}\n").tasks[0]);
  CHECK(acc.find("ordered") != std::string::npos);
  CHECK(acc.find("at_least") != std::string::npos);
}

TEST_CASE(
  "decoding tolerates unknown keys and keeps defaults for absent ones") {
  auto bytes = map_writer{3}
                 .add("format", 1)
                 .add("name", "x")
                 .add("from_the_future", 42)
                 .bytes();
  auto t = decode_task(bytes);
  REQUIRE(t);
  CHECK(t->name == std::string{"x"});
  CHECK(t->resources == resources_spec{});
  CHECK(t->position == source_position{});
}

TEST_CASE("wrong shapes are errors naming the field") {
  struct row {
    std::string bytes;
    const char* says;
  };
  msgpack::sbuffer nested;
  {
    msgpack::packer<msgpack::sbuffer> pk{nested};
    pk.pack_map(1);
    pk.pack(std::string{"resources"});
    pk.pack_map(1);
    pk.pack(std::string{"cpus"});
    pk.pack_map(1);
    pk.pack(std::string{"value"});
    pk.pack(std::string{"four"});
  }
  msgpack::sbuffer nan_cost;
  {
    msgpack::packer<msgpack::sbuffer> pk{nan_cost};
    pk.pack_map(1);
    pk.pack(std::string{"resources"});
    pk.pack_map(1);
    pk.pack(std::string{"max_hourly_cost"});
    pk.pack_double(std::numeric_limits<double>::quiet_NaN());
  }
  const row rows[] = {
    {map_writer{1}.add("name", 5).bytes(),
     "task: name should be a string, not an integer"},
    {map_writer{1}.add("num_nodes", int64_t{1} << 40).bytes(),
     "task: num_nodes should be a smaller integer"},
    {map_writer{1}.add("envs", "x").bytes(), "task: envs should be an array"},
    {std::string{nested.data(), nested.size()},
     "task: resources.cpus.value should be a number, not a string"},
    {std::string{nan_cost.data(), nan_cost.size()},
     "task: resources.max_hourly_cost should be a finite number"},
    {encode(std::vector<int>{1, 2}), "task should be a msgpack map"},
  };
  for (const auto& r : rows) {
    auto t = decode_task(r.bytes);
    REQUIRE_FALSE(t);
    auto info = describe(t.error());
    CHECK(info.code == errc::bad_request);
    CHECK_THAT(info.message, Catch::StartsWith(r.says));
  }
  auto order = map_writer{1}
                 .add("resources",
                      std::map<std::string, std::string>{
                        {"accelerator_order", "random"}})
                 .bytes();
  auto bad_enum = decode_task(order);
  REQUIRE_FALSE(bad_enum);
  CHECK(describe(bad_enum.error()).message
        == "task: resources.accelerator_order has the unknown value 'random'");
  auto future = decode_pipeline(map_writer{1}.add("format", 99).bytes());
  REQUIRE_FALSE(future);
  CHECK(describe(future.error()).code == errc::unsupported_version);
}

TEST_CASE("garbage and truncated input are errors, never exceptions") {
  const auto good = encode_pipeline(parse_ok(
    "name: n\nresources: {accelerators: A100:8, any_of: [{infra: aws}]}\n"
    "envs: {A: b}\nrun: r\n"));
  for (size_t cut = 0; cut < good.size(); ++cut) {
    auto r = decode_pipeline(std::string_view{good}.substr(0, cut));
    CHECK_FALSE(r);
  }
  CHECK(describe(decode_pipeline(std::string_view{}).error()).code
        == errc::bad_frame);
  CHECK(describe(decode_pipeline(good + "x").error()).code == errc::bad_frame);
  std::mt19937 rng{12345};
  size_t decoded = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string bytes = good;
    // Flip a few bytes: the result either decodes or is an error.
    for (int k = 0; k < 3; ++k)
      bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xff);
    auto r = decode_pipeline(bytes);
    if (r) {
      ++decoded;
      // Whatever decoded must survive another round trip unchanged.
      auto again = decode_pipeline(encode_pipeline(*r));
      REQUIRE(again);
      CHECK(*again == *r);
    }
  }
  CHECK(decoded < 2000);
}
