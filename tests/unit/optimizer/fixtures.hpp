#pragma once

// Small catalogs written to a temporary directory for the optimizer tests.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "messages/task/task_spec.hpp"
#include "optimizer/placement/catalog.hpp"
#include "tests/support/test_support.hpp"

namespace sky::optimizer::testing {

inline void write_file(const std::filesystem::path& path,
                       const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out{path, std::ios::binary};
  out << text;
  REQUIRE(out.good());
}

inline const char* aws_header
  = "InstanceType,AcceleratorName,"
    "AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,"
    "Price,SpotPrice,Region,AvailabilityZone,Arch\n";
inline const char* gcp_header = "InstanceType,vCPUs,MemoryGiB,"
                                "AcceleratorName,AcceleratorCount,GpuInfo,"
                                "Region,AvailabilityZone,Price,SpotPrice\n";
inline const char* azure_header = "InstanceType,AcceleratorName,"
                                  "AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,"
                                  "Price,SpotPrice,Region,Generation\n";
inline const char* lambda_header = "InstanceType,AcceleratorName,"
                                   "AcceleratorCount,vCPUs,MemoryGiB,Price,"
                                   "Region,GpuInfo,SpotPrice\n";

/// `NAME:COUNT`.
inline task::accelerator_spec gpu(std::string name, double count) {
  task::accelerator_spec a;
  a.name = std::move(name);
  a.count = count;
  return a;
}

/// `[MAKER:]GIB[+]:COUNT` (by device memory).
inline task::accelerator_spec gpu_memory(double count, double gib,
                                         bool exact = false,
                                         std::string maker = {}) {
  task::accelerator_spec a;
  a.count = count;
  a.min_memory_gib = gib;
  a.memory_exact = exact;
  a.manufacturer = std::move(maker);
  return a;
}

/// A catalog of a few clouds with hand-checkable prices.
inline std::string fixture_aws() {
  return std::string{aws_header}
         // CPU types: m.2x is the cheapest 8-vCPU 4x-memory type.
         + "m.large,,,2.0,8.0,,0.10,0.03,us-east-1,use1-az1,x86_64\n"
           "m.large,,,2.0,8.0,,0.10,0.02,us-east-1,use1-az2,x86_64\n"
           "m.2x,,,8.0,32.0,,0.40,0.12,us-east-1,use1-az1,x86_64\n"
           "m.2x,,,8.0,32.0,,0.40,0.10,us-east-1,use1-az2,x86_64\n"
           "c.2x,,,8.0,16.0,,0.30,0.09,us-east-1,use1-az1,x86_64\n"
           "m.2x,,,8.0,32.0,,0.44,0.20,eu-west-1,euw1-az1,x86_64\n"
           "r.2x,,,8.0,64.0,,0.50,0.15,us-east-1,use1-az1,x86_64\n"
           // GPUs.
           "g.a10g,A10G,1,4.0,16.0,\"{'Gpus': [{'Name': 'A10G', 'Count': 1, "
           "'MemoryInfo': {'SizeInMiB': 24576}}]}\",1.00,0.40,us-east-1,"
           "use1-az1,x86_64\n"
           "p.a100x8,A100,8,96.0,1152.0,\"{'Gpus': [{'Name': 'A100', 'Count': "
           "8, 'MemoryInfo': {'SizeInMiB': 40960}}]}\",32.00,12.00,us-east-1,"
           "use1-az2,x86_64\n"
           "p.h100x8,H100,8,192.0,2048.0,\"{'Gpus': [{'Name': 'H100', "
           "'Count': 8, 'MemoryInfo': {'SizeInMiB': 81920}}]}\",98.00,,"
           "us-east-1,use1-az1,x86_64\n";
}

inline std::string fixture_lambda() {
  return std::string{lambda_header}
         + "cpu_4x,,,4.0,16.0,0.20,us-east-1,,\n"
           "gpu_8x_a100,A100,8.0,124.0,1800.0,14.00,us-east-1,\"{'Gpus': "
           "[{'Name': 'A100', 'Count': 8.0, 'MemoryInfo': {'SizeInMiB': "
           "40960}}]}\",\n"
           "gpu_8x_a100,A100,8.0,124.0,1800.0,15.00,us-south-1,\"{'Gpus': "
           "[{'Name': 'A100', 'Count': 8.0, 'MemoryInfo': {'SizeInMiB': "
           "40960}}]}\",\n"
           "gpu_1x_h100,H100,1.0,26.0,200.0,2.50,us-east-1,\"{'Gpus': "
           "[{'Name': 'H100', 'Count': 1.0, 'MemoryInfo': {'SizeInMiB': "
           "81920}}]}\",\n";
}

inline std::string fixture_azure() {
  return std::string{azure_header}
         // The known defect: Generation "V1,V2" unquoted -> 11 fields.
         + "Standard_B12ms,,,12,48,,0.634,,australiacentral,V1,V2\n"
           "Standard_D8s_v5,,,8,32,,0.384,0.08,eastus,V1,V2\n"
           "Standard_D8s_v5,,,8,32,,0.384,0.07,westus2,V2\n"
           "Standard_NC4as_T4_v3,T4,1,4,28,T4,0.526,0.10,eastus,\"V1,V2\"\n"
           "Standard_NV6_A10,A10,0.167,6,55,A10,0.45,0.09,eastus,V2\n"
           "Standard_NV36_A10,A10,1,36,440,A10,3.20,,eastus,V2\n";
}

/// Writes the fixture clouds under `dir` and loads them.
inline catalog_load_result load_fixture(const std::filesystem::path& dir) {
  write_file(dir / "aws" / "vms.csv", fixture_aws());
  write_file(dir / "lambda" / "vms.csv", fixture_lambda());
  write_file(dir / "azure" / "vms.csv", fixture_azure());
  auto r = load_catalogs(dir);
  REQUIRE(r);
  return std::move(*r);
}

} // namespace sky::optimizer::testing
