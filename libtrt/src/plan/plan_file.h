// The engine plan container (docs/plan-format.md): header, protobuf manifest, 256-byte-aligned
// weight blobs and a trailing checksum.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trt/network.h"

namespace trt {

struct PlanFingerprint {
  std::string engineVersion, backend, deviceName, computeCapability, cudaVersion, cudnnVersion, cublasVersion,
      hostArch;
  std::string toString() const;
};

struct PlanContents {
  PlanFingerprint fingerprint;
  std::unique_ptr<Network> network;
  int formatVersion = 0;
  uint64_t weightBytes = 0;
  std::string sourceModel;
};

constexpr char kPlanMagic[8] = {'T', 'R', 'T', 'P', 'L', 'A', 'N', '\0'};
constexpr size_t kPlanHeaderBytes = 64;
constexpr size_t kPlanBlobAlignment = 256;

// Serialises `net` (with its constants as weight blobs).
std::vector<uint8_t> writePlan(const Network& net, const PlanFingerprint& fp, const std::string& sourceModel);
// Parses and verifies a plan: magic, format version, size, checksum, manifest and blob ranges.
// Does not check the fingerprint against this machine (the runtime does).
Expected<PlanContents> readPlan(const void* data, size_t size);

// 64-bit FNV-1a over 8-byte words (tail bytes one by one).
uint64_t planChecksum(const uint8_t* data, size_t size);

}  // namespace trt
