// The differential op harness (DESIGN rule 4).
//
// Reads the cases written by op_cases.py (single-op ONNX models, fresh random inputs, onnxruntime
// reference outputs) and runs each on every backend x precision this build offers. Outputs are
// poisoned (every byte 0xFF: NaN for floats) before each run, so an element a kernel forgets to
// write fails the comparison. Error is normalised: max|got - ref| / max(max|ref|, 1e-6), against a
// tolerance per precision (fp32 1e-5, tf32 1e-3, fp16 1e-2); integer and bool outputs must match
// exactly.
//
// Usage: trt_op_harness CASE_DIR [--filter SUBSTRING]
#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "common/npy.h"
#include "trt/trt.h"

using namespace trt;

namespace {

struct Precision {
  std::string name;
  double tolerance;
};

// Backend -> the precisions it is exercised in.
// "-nhwc": the same precision with every 2-D convolution forced channels-last (trtbuild --layout
// nhwc); on CUDA, FP16 is NHWC already (the backend's choice) and FP32 NHWC runs cuDNN's NHWC path.
std::vector<Precision> precisionsFor(const std::string& backend) {
  if (backend == "cpu") return {{"fp32", 1e-5}, {"fp32-nhwc", 1e-5}};
  return {{"fp32", 1e-5}, {"fp32-nhwc", 1e-5}, {"tf32", 1e-3}, {"fp16", 1e-2}};
}

double normalisedError(const HostTensor& got, const HostTensor& ref, bool& exactMismatch) {
  exactMismatch = false;
  const bool exact = ref.type() != DataType::kFloat32 && ref.type() != DataType::kFloat16;
  double maxErr = 0, maxRef = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    double g = got.doubleAt(i), r = ref.doubleAt(i);
    if (exact) {
      if (g != r) exactMismatch = true;
      continue;
    }
    if (std::isnan(r) && std::isnan(g)) continue;
    if (std::isinf(r) && g == r) continue;
    double e = std::abs(g - r);
    if (std::isnan(e)) e = INFINITY;
    maxErr = std::max(maxErr, e);
    maxRef = std::max(maxRef, std::abs(r));
  }
  return maxErr / std::max(maxRef, 1e-6);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: trt_op_harness CASE_DIR [--filter S]\n";
    return 2;
  }
  const std::string dir = argv[1];
  std::string filter = argc > 3 && std::string(argv[2]) == "--filter" ? argv[3] : "";
  std::ifstream mf(dir + "/cases.json");
  if (!mf) {
    std::cerr << "trt_op_harness: no cases.json in '" << dir << "' (run tests/ops/op_cases.py)\n";
    return 1;
  }
  nlohmann::json manifest = nlohmann::json::parse(mf);
  std::cout << "op harness: seed " << manifest["seed"] << ", backends:";
  for (const auto& b : availableBackends()) std::cout << " " << b;
  std::cout << "\n";
  const std::vector<std::string> backends = availableBackends();
  if (std::find(backends.begin(), backends.end(), "cuda") == backends.end())
    std::cout << "cuda: skipped (" << trt::backendUnavailableReasonForTools("cuda") << ")\n";
  int passed = 0, failed = 0;
  for (const auto& c : manifest["cases"]) {
    const std::string name = c["name"];
    if (!filter.empty() && name.find(filter) == std::string::npos) continue;
    const std::string cdir = dir + "/" + name;
    for (const std::string& backend : availableBackends()) {
      for (const Precision& prec : precisionsFor(backend)) {
        auto fail = [&](const std::string& why) {
          ++failed;
          std::cout << "FAIL " << std::left << std::setw(24) << name << " " << backend << "/" << prec.name << ": " << why << "\n";
        };
        auto net = parseOnnxFile(cdir + "/model.onnx");
        if (!net.isOk()) {
          fail(net.status().message());
          continue;
        }
        BuilderConfig cfg;
        cfg.device = backend;
        cfg.fp16 = prec.name == "fp16";
        cfg.tf32 = prec.name == "tf32";
        if (prec.name == "fp32-nhwc") cfg.layout = "nhwc";
        Builder builder(cfg);
        auto plan = builder.buildSerialized(**net);
        if (!plan.isOk()) {
          fail(plan.status().message());
          continue;
        }
        auto engine = Engine::deserialize(plan->data(), plan->size());
        if (!engine.isOk()) {
          fail(engine.status().message());
          continue;
        }
        auto ctx = (*engine)->createExecutionContext();
        std::map<std::string, HostTensor> tensors;
        std::map<std::string, DeviceBuffer> device;
        // Binds host data directly (CPU backend, shape tensors) or through a device copy.
        auto bind = [&](const std::string& name, HostTensor& h) -> Status {
          if ((*engine)->usesHostMemory() || (*engine)->isShapeInferenceIO(name)) return ctx->setTensorAddress(name, h.data());
          TRT_ASSIGN_OR_RETURN(DeviceBuffer d, DeviceBuffer::allocate(**engine, std::max<size_t>(h.byteSize(), 1)));
          TRT_RETURN_IF_ERROR(d.copyFromHost(h.data(), h.byteSize()));
          device[name] = d;
          return ctx->setTensorAddress(name, d.data());
        };
        bool ok = true;
        for (const std::string in : c["inputs"]) {
          auto t = tools::readNpy(cdir + "/" + in + ".npy");
          if (!t.isOk()) {
            fail(t.status().message());
            ok = false;
            break;
          }
          tensors[in] = *t;
          Status st = ctx->setInputShape(in, t->dims());
          if (st.isOk()) st = bind(in, tensors[in]);
          if (!st.isOk()) {
            fail(st.message());
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        std::map<std::string, HostTensor> refs;
        for (const std::string out : c["outputs"]) {
          auto r = tools::readNpy(cdir + "/ref_" + out + ".npy");
          auto dims = ctx->getTensorShape(out);
          if (!r.isOk() || !dims.isOk()) {
            fail(!r.isOk() ? r.status().message() : dims.status().message());
            ok = false;
            break;
          }
          refs[out] = *r;
          HostTensor poisoned(r->type(), *dims);
          std::memset(poisoned.data(), 0xFF, poisoned.byteSize());
          tensors["out:" + out] = poisoned;
          if (Status st = bind(out, tensors["out:" + out]); !st.isOk()) {
            fail(st.message());
            ok = false;
            break;
          }
        }
        if (!ok) continue;
        if (Status st = ctx->execute(); !st.isOk()) {
          fail(st.message());
          continue;
        }
        for (auto& kv : device) {
          if (!tensors.count("out:" + kv.first)) continue;  // an input
          HostTensor& h = tensors["out:" + kv.first];
          if (Status st = kv.second.copyToHost(h.data(), h.byteSize()); !st.isOk()) {
            fail(st.message());
            ok = false;
          }
        }
        if (!ok) continue;
        double worst = 0;
        for (const std::string out : c["outputs"]) {
          const HostTensor& got = tensors["out:" + out];
          const HostTensor& ref = refs[out];
          if (got.dims() != ref.dims() || got.type() != ref.type()) {
            fail("output " + out + " is " + dimsToString(got.dims()) + " " + dataTypeName(got.type()) + ", expected " +
                 dimsToString(ref.dims()) + " " + dataTypeName(ref.type()));
            ok = false;
            break;
          }
          bool exactMismatch = false;
          double e = normalisedError(got, ref, exactMismatch);
          if (exactMismatch) {
            fail("output " + out + " differs (exact comparison)");
            ok = false;
            break;
          }
          worst = std::max(worst, e);
        }
        if (!ok) continue;
        if (worst > prec.tolerance) {
          std::ostringstream os;
          os << "normalised error " << worst << " > " << prec.tolerance;
          fail(os.str());
          continue;
        }
        ++passed;
      }
    }
  }
  std::cout << "op harness: " << passed << " passed, " << failed << " failed\n";
  return failed ? 1 : 0;
}
