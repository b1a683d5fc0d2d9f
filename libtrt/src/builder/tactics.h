// Tactic selection by timing, and the timing cache (issue 5).
//
// A backend names a layer's candidate implementations (Backend::tactics). The builder runs each on
// the device with the layer's real shapes (inputs from the constants, activations filled with a
// fixed pattern), one warm-up then the median of several runs, and keeps the fastest. The timing
// cache remembers the winner per layer signature (op, precision, input types and shapes, which
// inputs are constants, attributes) for one device and library set, so a warm rebuild skips the
// timing. Cache file: JSON {"Format": "trt-timing-cache", "Version": 1, "Device": ..., "Entries":
// [{"Key", "Tactic", "Ms"}]}; a file for another device, another version or one that does not parse
// gives a warning and is ignored (then rewritten).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "trt/logger.h"
#include "trt/network.h"

namespace trt {

class TimingCache {
 public:
  // `device` identifies the device and libraries (entries from another are not used).
  explicit TimingCache(std::string device) : device_(std::move(device)) {}
  // Reads `path` if it exists; problems are warnings on `log`, and leave the cache empty.
  void load(const std::string& path, Logger& log);
  Status save(const std::string& path) const;
  struct Entry {
    std::string tactic;
    double ms = 0;
  };
  const Entry* find(const std::string& key) const;
  void put(const std::string& key, Entry e) { entries_[key] = std::move(e); }
  size_t size() const { return entries_.size(); }

 private:
  std::string device_;
  std::map<std::string, Entry> entries_;
};

// The layer's signature for the cache.
std::string layerSignature(const Layer& layer, const Network& net);

// Times each of `tactics` (candidate names for `layer`) on `backend`: the median milliseconds of
// `runs` runs after two warm-ups, each behind a stream delay that hides the host's launch time, each run on
// the next of several copies of the layer's inputs and outputs (enough copies to add up to twice the device's
// cache, where that fits) so that the cache does not flatter. One result per tactic; a tactic fails when it
// cannot be configured or run with these shapes, and all fail when the layer cannot run in isolation (shapes
// not static, or non-float activations whose values matter).
// `workspaces` (optional) receives each tactic's workspace bytes (-1 where it did not prepare).
std::vector<Expected<double>> timeTactics(const Backend& backend, const Layer& layer, const Network& net,
                                          const std::vector<std::string>& tactics, int runs,
                                          std::vector<int64_t>* workspaces = nullptr);

// The device broke while a candidate ran (a sticky error: nothing else can run in this process);
// the message names the layer and the tactic. The builder stops with that error.
constexpr const char* kDeviceFailure = "the device failed running";
bool isDeviceFailure(const Status& st);

}  // namespace trt
