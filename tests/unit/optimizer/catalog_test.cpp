#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "optimizer/placement/catalog.hpp"
#include "tests/support/test_support.hpp"
#include "tests/unit/optimizer/fixtures.hpp"

using namespace sky;
using namespace sky::optimizer;
using namespace sky::optimizer::testing;

namespace {

std::vector<const offer*> offers_of_type(const catalog& cat,
                                         std::string_view cloud,
                                         std::string_view type) {
  std::vector<const offer*> out;
  const auto* c = cat.cloud(cloud);
  REQUIRE(c != nullptr);
  for (const auto& o : cat.offers_of(*c))
    if (cat.name(o.instance_type) == type)
      out.push_back(&o);
  return out;
}

std::string all_diagnostics(const catalog_load_result& r) {
  std::string s;
  for (const auto& d : r.diagnostics)
    s += d.to_string() + "\n";
  return s;
}

} // namespace

TEST_CASE("catalog: columns are found by header name in every layout") {
  sky::testing::temp_dir dir{"skyopt"};
  auto r = load_fixture(dir.path());
  INFO(all_diagnostics(r));
  CHECK(r.diagnostics.empty());
  CHECK(r.unlisted_diagnostics == 0);
  const auto& cat = r.cat;
  REQUIRE(cat.clouds().size() == 3);

  auto lam = offers_of_type(cat, "lambda", "gpu_8x_a100");
  REQUIRE(lam.size() == 2);
  CHECK(cat.name(lam[0]->accelerator) == "A100");
  CHECK(lam[0]->accelerator_count == 8);
  CHECK(lam[0]->vcpus == 124);
  CHECK(lam[0]->memory_gib == 1800);
  CHECK(lam[0]->price == 14.00);
  CHECK_FALSE(lam[0]->has_spot()); // empty SpotPrice: no spot offer
  CHECK(lam[0]->zone == 0);        // region-level cloud
  CHECK(lam[0]->device_memory_gib == 40.0);

  auto aws = offers_of_type(cat, "aws", "m.2x");
  REQUIRE(aws.size() == 3);
  CHECK(cat.name(aws[0]->zone) == "use1-az1");
  CHECK(aws[0]->spot_price == 0.12);
  const auto* awsc = cat.cloud("aws");
  CHECK(awsc->has_zones);
  CHECK_FALSE(cat.cloud("lambda")->has_zones);
}

TEST_CASE("catalog: azure rows with an unquoted 'V1,V2' are merged, "
          "not malformed") {
  sky::testing::temp_dir dir{"skyopt"};
  auto r = load_fixture(dir.path());
  CHECK(r.diagnostics.empty());
  const auto& cat = r.cat;
  auto b12 = offers_of_type(cat, "azure", "Standard_B12ms");
  REQUIRE(b12.size() == 1);
  CHECK(b12[0]->vcpus == 12);
  CHECK(b12[0]->price == 0.634);
  CHECK_FALSE(b12[0]->has_spot());
  CHECK(cat.name(b12[0]->region) == "australiacentral");
  auto d8 = offers_of_type(cat, "azure", "Standard_D8s_v5");
  CHECK(d8.size() == 2);
  auto stats = std::find_if(r.files.begin(), r.files.end(),
                            [](const auto& f) { return f.cloud == "azure"; });
  REQUIRE(stats != r.files.end());
  CHECK(stats->rows == 6);
  CHECK(stats->offers == 6);
  CHECK(stats->malformed == 0);
}

TEST_CASE("catalog: surplus fields are malformed when the last column is "
          "read") {
  // Lambda's last column is SpotPrice, which the loader reads: an extra
  // field there cannot be folded away.
  catalog_builder b;
  b.add_vms_csv("lambda",
                std::string{lambda_header}
                  + "x,,,4.0,16.0,0.20,us-east-1,,,oops\n"
                    "y,,,4.0,16.0,0.20,us-east-1,,\n",
                "lambda/vms.csv");
  auto r = std::move(b).finish();
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].to_string()
        == "lambda/vms.csv:2: expected 9 fields, found 10");
  CHECK(r.cat.offers().size() == 1);
}

TEST_CASE("catalog: GpuInfo gives device memory, azure borrows it by name") {
  catalog_builder b;
  b.add_vms_csv("lambda",
                std::string{lambda_header}
                  + "gpu_1x_a10,A10,1.0,30.0,200.0,0.75,us-east-1,\"{'Gpus': "
                    "[{'Name': 'A10', 'Count': 1.0, 'MemoryInfo': "
                    "{'SizeInMiB': 24576}}]}\",\n",
                "lambda/vms.csv");
  b.add_vms_csv("azure", fixture_azure(), "azure/vms.csv");
  // vast writes the memory of all devices together: 2 x 24564 MiB.
  b.add_vms_csv(
    "vast",
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,"
    "MemoryGiB,GpuInfo,Price,SpotPrice,Region\n"
    "2x-4090,RTX4090,2,32,64.0,\"{'Gpus': [{'Name': 'RTX4090', "
    "'Count': 2, 'MemoryInfo': {'SizeInMiB': 49128}}], "
    "'TotalGpuMemoryInMiB': 49128}\",0.60,0.00,\"Taiwan, TW, AS\"\n",
    "vast/vms.csv");
  auto r = std::move(b).finish();
  INFO(all_diagnostics(r));
  CHECK(r.diagnostics.empty());
  const auto& cat = r.cat;
  auto a10 = offers_of_type(cat, "azure", "Standard_NV36_A10");
  REQUIRE(a10.size() == 1);
  CHECK(a10[0]->device_memory_gib == 24.0); // from lambda's GpuInfo
  auto t4 = offers_of_type(cat, "azure", "Standard_NC4as_T4_v3");
  REQUIRE(t4.size() == 1);
  CHECK(std::isnan(t4[0]->device_memory_gib)); // nobody says
  auto v = offers_of_type(cat, "vast", "2x-4090");
  REQUIRE(v.size() == 1);
  CHECK(v[0]->device_memory_gib == Approx(24564.0 / 1024));
  CHECK_FALSE(v[0]->has_spot()); // SpotPrice 0.00: no spot offer
  CHECK(cat.name(v[0]->region) == "Taiwan, TW, AS");
  CHECK(cat.name(v[0]->accelerator) == "RTX4090");
  // Fractional counts are kept as written.
  auto frac = offers_of_type(cat, "azure", "Standard_NV6_A10");
  REQUIRE(frac.size() == 1);
  CHECK(frac[0]->accelerator_count == Approx(0.167));
}

TEST_CASE("catalog: accelerator names are canonical, case-insensitively") {
  catalog_builder b;
  b.add_accelerators_csv("AcceleratorName,Clouds\nA100,\"['AWS', 'GCP']\"\n"
                         "H100,['AWS']\n",
                         "common/accelerators.csv");
  b.add_vms_csv("lambda",
                std::string{lambda_header}
                  + "x,a100,1.0,30.0,200.0,1.29,us-east-1,,\n"
                    "y,h100,1.0,26.0,200.0,2.49,us-east-1,,\n",
                "lambda/vms.csv");
  auto r = std::move(b).finish();
  const auto& cat = r.cat;
  REQUIRE(cat.offers().size() == 2);
  CHECK(cat.name(cat.offers()[0].accelerator) == "A100");
  CHECK(cat.name(cat.offers()[1].accelerator) == "H100");
  auto id = cat.canonical_accelerator("a100");
  REQUIRE(id);
  CHECK(cat.name(*id) == "A100");
  CHECK(cat.canonical_accelerator("A100") == id);
  CHECK_FALSE(cat.canonical_accelerator("A1000"));
}

TEST_CASE("catalog: manufacturers come from GpuInfo, else from the name") {
  catalog_builder b;
  b.add_vms_csv("aws",
                std::string{aws_header}
                  + "x,Gaudi HL-205,8,96.0,768.0,\"{'Gpus': [{'Name': 'Gaudi "
                    "HL-205', 'Manufacturer': 'Habana', 'Count': 8, "
                    "'MemoryInfo': {'SizeInMiB': 32768}}]}\",13.1,,us-east-1,"
                    "use1-az1,x86_64\n",
                "aws/vms.csv");
  b.add_vms_csv("azure", fixture_azure(), "azure/vms.csv");
  b.add_vms_csv("azure",
                std::string{azure_header}
                  + "Standard_NV4as_v4,MI25,0.125,4,14,MI25,0.2,0.05,eastus,V2"
                    "\n",
                "azure2.csv");
  auto r = std::move(b).finish();
  CHECK(r.diagnostics.empty());
  const auto& cat = r.cat;
  CHECK(cat.manufacturer(*cat.canonical_accelerator("gaudi hl-205"))
        == "Habana");
  CHECK(cat.manufacturer(*cat.canonical_accelerator("MI25")) == "AMD");
  CHECK(cat.manufacturer(*cat.canonical_accelerator("T4")) == "NVIDIA");
  // Two files for one cloud add up.
  CHECK(cat.offers_of(*cat.cloud("azure")).size() == 7);
}

TEST_CASE("catalog: malformed rows are reported once with file:line") {
  sky::testing::temp_dir dir{"skyopt"};
  write_file(
    dir.path() / "lambda" / "vms.csv",
    std::string{lambda_header}
      + "ok_1,,,4.0,16.0,0.20,us-east-1,,\n"       // line 2
        "bad_cpu,,,four,16.0,0.20,us-east-1,,\n"   // line 3
        "short,,,4.0,16.0\n"                       // line 4
        "neg,,,4.0,16.0,-1,us-east-1,,\n"          // line 5
        "nocount,A100,,4.0,16.0,1.0,us-east-1,,\n" // line 6
        "noregion,,,4.0,16.0,0.20,,,\n"            // line 7
        ",,,4.0,16.0,0.20,us-east-1,,\n"           // line 8
        "zero,A100,0,4.0,16.0,1.0,us-east-1,,\n"   // line 9
        "badgpu,A100,1,4.0,16.0,1.0,us-east-1,\"{'Gpus': [{'MemoryInfo': "
        "{'SizeInMiB': lots}}]}\",\n"                // line 10
        "ok_2,,,8.0,32.0,0.40,us-east-1,,0.1\n"      // line 11
        "open,,,4.0,16.0,0.20,us-east-1,\"oops,\n"); // line 12
  auto r = load_catalogs(dir.path());
  REQUIRE(r);
  std::vector<std::string> got;
  for (const auto& d : r->diagnostics)
    got.push_back(d.to_string());
  const auto file = (dir.path() / "lambda" / "vms.csv").string();
  std::vector<std::string> want{
    file + ":3: bad vCPUs 'four'",
    file + ":4: expected 9 fields, found 5",
    file + ":5: bad Price '-1'",
    file + ":6: empty AcceleratorCount",
    file + ":7: empty Region",
    file + ":8: empty InstanceType",
    file + ":9: AcceleratorCount must be positive",
    file + ":10: bad GpuInfo SizeInMiB 'lots'",
    file + ":12: unterminated quoted field",
  };
  CHECK(got == want);
  CHECK(r->cat.offers().size() == 2);
  REQUIRE(r->files.size() == 1);
  CHECK(r->files[0].rows == 11);
  CHECK(r->files[0].malformed == 9);
}

TEST_CASE("catalog: listed diagnostics are capped per file, the rest counted") {
  std::string text = lambda_header;
  for (int i = 0; i < 25; ++i)
    text += "bad,,,x,16.0,0.20,us-east-1,,\n";
  text += "good,,,4.0,16.0,0.20,us-east-1,,\n";
  catalog_builder b;
  b.add_vms_csv("lambda", text, "l.csv");
  b.add_vms_csv("azure", std::string{azure_header} + "bad,,,1,2,,zz,,r,V1\n",
                "a.csv");
  auto r = std::move(b).finish();
  CHECK(r.diagnostics.size() == max_listed_diagnostics + 1);
  CHECK(r.unlisted_diagnostics == 25 - max_listed_diagnostics);
  CHECK(r.diagnostics.back().to_string() == "a.csv:2: bad Price 'zz'");
  CHECK(r.cat.offers().size() == 1);
}

TEST_CASE("catalog: a header without a required column skips the file") {
  catalog_builder b;
  b.add_vms_csv("lambda",
                "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,"
                "MemoryGiB,Region\nx,,,4,16,us-east-1\n",
                "l.csv");
  auto r = std::move(b).finish();
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].to_string()
        == "l.csv:1: missing column 'Price' in the header; file skipped");
  CHECK(r.cat.offers().empty());
}

TEST_CASE("catalog: missing directory or cloud is an error value") {
  sky::testing::temp_dir dir{"skyopt"};
  auto missing = load_catalogs(dir.path() / "nope");
  REQUIRE_FALSE(missing);
  CHECK(describe(missing.error()).code == errc::not_found);
  write_file(dir.path() / "lambda" / "vms.csv", fixture_lambda());
  auto no_aws = load_catalogs(dir.path(), {"lambda", "aws"});
  REQUIRE_FALSE(no_aws);
  auto info = describe(no_aws.error());
  CHECK(info.code == errc::not_found);
  CHECK(info.message.find("no catalog for cloud 'aws'") != std::string::npos);
  // Without a list: every subfolder that has a vms.csv.
  std::filesystem::create_directories(dir.path() / "empty");
  auto all = load_catalogs(dir.path());
  REQUIRE(all);
  REQUIRE(all->cat.clouds().size() == 1);
  CHECK(all->cat.name(all->cat.clouds()[0].name) == "lambda");
}

TEST_CASE("catalog: the project's default catalog loads without diagnostics") {
  const std::filesystem::path dir
    = std::filesystem::path{SKY_SOURCE_DIR} / "data" / "catalogs";
  auto r = load_catalogs(dir);
  REQUIRE(r);
  INFO(all_diagnostics(*r));
  CHECK(r->diagnostics.empty());
  CHECK(r->unlisted_diagnostics == 0);
  std::vector<std::string> clouds;
  for (const auto& c : r->cat.clouds())
    clouds.emplace_back(r->cat.name(c.name));
  CHECK(clouds == std::vector<std::string>{"aws", "azure", "gcp", "lambda"});
  for (const char* gpu : {"A100", "H100", "L4", "T4", "A10G"})
    CHECK(r->cat.canonical_accelerator(gpu));
  for (const auto& f : r->files) {
    INFO(f.file);
    CHECK(f.rows >= 24);
    CHECK(f.offers > 0);
  }
}
