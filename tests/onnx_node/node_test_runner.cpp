// Runs the ONNX backend node tests through the engine (parse -> build -> plan -> load -> execute
// on the CPU backend) and reports passed / failed / unsupported.
//
// A test is "unsupported" when import or build refuses it with kUnsupported (an op, attribute or
// data type trt does not implement); every other outcome is passed or failed. Outputs compare as
// onnx's backend tests do: |got - want| <= atol + rtol * |want|, rtol 1e-3, atol 1e-7, NaN == NaN.
//
// Usage: trt_onnx_node_tests DATA_DIR [--report FILE.json] [--filter SUBSTRING] [--min-pass N]
// Exit status: 0 when no test failed and at least --min-pass passed.
#include <dirent.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "onnx/importer.h"
#include "trt/trt.h"

using namespace trt;

namespace {

std::vector<std::string> listDir(const std::string& dir) {
  std::vector<std::string> r;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') r.push_back(e->d_name);
    closedir(d);
  }
  std::sort(r.begin(), r.end());
  return r;
}

bool exists(const std::string& p) { return std::ifstream(p).good(); }

Expected<HostTensor> readTensorPb(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  onnx::TensorProto t;
  if (!f || !t.ParseFromIstream(&f)) return makeError(StatusCode::kCorrupt, "cannot parse " + path);
  return onnximport::tensorFromProto(t, ".");
}

struct Outcome {
  std::string result;  // passed / failed / unsupported
  std::string detail;
};

Status compare(const HostTensor& got, const HostTensor& want, const std::string& name) {
  if (got.type() != want.type())
    return makeError(StatusCode::kRuntime, name + ": type " + dataTypeName(got.type()) + " vs expected " + dataTypeName(want.type()));
  if (got.dims() != want.dims())
    return makeError(StatusCode::kRuntime, name + ": shape " + dimsToString(got.dims()) + " vs expected " + dimsToString(want.dims()));
  for (int64_t i = 0; i < got.numel(); ++i) {
    double g = got.doubleAt(i), w = want.doubleAt(i);
    if (std::isnan(g) && std::isnan(w)) continue;
    if (std::isinf(g) && g == w) continue;
    if (!(std::abs(g - w) <= 1e-7 + 1e-3 * std::abs(w)))
      return makeError(StatusCode::kRuntime, name + ": element " + std::to_string(i) + " is " + std::to_string(g) +
                                                 ", expected " + std::to_string(w));
  }
  return Status::ok();
}

Outcome runTest(const std::string& dir) {
  auto net = parseOnnxFile(dir + "/model.onnx");
  auto classify = [](const Status& st) {
    return Outcome{st.code() == StatusCode::kUnsupported ? "unsupported" : "failed", st.message()};
  };
  if (!net.isOk()) return classify(net.status());
  std::vector<std::string> inputNames, outputNames;
  for (int id : (*net)->inputs()) inputNames.push_back((*net)->tensor(id).name);
  for (int id : (*net)->outputs()) outputNames.push_back((*net)->tensor(id).name);
  Builder builder;
  auto plan = builder.buildSerialized(**net);
  if (!plan.isOk()) return classify(plan.status());
  auto engine = Engine::deserialize(plan->data(), plan->size());
  if (!engine.isOk()) return {"failed", engine.status().message()};
  int sets = 0;
  for (const std::string& ds : listDir(dir)) {
    if (ds.rfind("test_data_set_", 0) != 0) continue;
    ++sets;
    auto ctx = (*engine)->createExecutionContext();
    std::vector<HostTensor> inputs;
    for (size_t i = 0; i < inputNames.size(); ++i) {
      std::string p = dir + "/" + ds + "/input_" + std::to_string(i) + ".pb";
      if (!exists(p)) return {"unsupported", "input " + std::to_string(i) + " is not a tensor"};
      auto t = readTensorPb(p);
      if (!t.isOk()) return classify(t.status());
      inputs.push_back(*t);
      if (Status st = ctx->setInputShape(inputNames[i], t->dims()); !st.isOk()) return {"failed", st.message()};
      if (Status st = ctx->setTensorAddress(inputNames[i], inputs.back().data()); !st.isOk()) return {"failed", st.message()};
    }
    std::vector<HostTensor> outputs;
    outputs.reserve(outputNames.size());
    for (const auto& name : outputNames) {
      auto dims = ctx->getTensorShape(name);
      if (!dims.isOk()) return classify(dims.status());
      int id = (*engine)->network().findTensor(name);
      outputs.emplace_back((*engine)->network().tensor(id).type, *dims);
      if (Status st = ctx->setTensorAddress(name, outputs.back().data()); !st.isOk()) return {"failed", st.message()};
    }
    if (Status st = ctx->execute(); !st.isOk()) return classify(st);
    for (size_t i = 0; i < outputNames.size(); ++i) {
      std::string p = dir + "/" + ds + "/output_" + std::to_string(i) + ".pb";
      if (!exists(p)) return {"unsupported", "output " + std::to_string(i) + " is not a tensor"};
      auto want = readTensorPb(p);
      if (!want.isOk()) return classify(want.status());
      if (Status st = compare(outputs[i], *want, outputNames[i]); !st.isOk()) return {"failed", ds + ": " + st.message()};
    }
  }
  if (sets == 0) return {"unsupported", "no test data"};
  return {"passed", ""};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: trt_onnx_node_tests DATA_DIR [--report FILE.json] [--filter S] [--min-pass N]\n";
    return 2;
  }
  std::string dataDir = argv[1], report, filter;
  int minPass = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--report") report = argv[i + 1];
    else if (a == "--filter") filter = argv[i + 1];
    else if (a == "--min-pass") minPass = std::atoi(argv[i + 1]);
    else {
      std::cerr << "trt_onnx_node_tests: unknown option " << a << "\n";
      return 2;
    }
  }
  std::vector<std::string> tests = listDir(dataDir);
  if (tests.empty()) {
    std::cerr << "trt_onnx_node_tests: no tests in '" << dataDir << "' (run scripts/gen_onnx_node_tests.py)\n";
    return 1;
  }
  std::map<std::string, int> counts;
  nlohmann::json results = nlohmann::json::object();
  std::map<std::string, int> unsupportedReasons;
  for (const auto& t : tests) {
    if (!filter.empty() && t.find(filter) == std::string::npos) continue;
    Outcome o = runTest(dataDir + "/" + t);
    ++counts[o.result];
    results[t] = {{"result", o.result}, {"detail", o.detail}};
    if (o.result == "failed") std::cout << "FAILED " << t << ": " << o.detail << "\n";
    if (o.result == "unsupported") {
      std::string reason = o.detail.substr(o.detail.rfind(": ") == std::string::npos ? 0 : o.detail.rfind(": ") + 2);
      ++unsupportedReasons[reason];
    }
  }
  std::cout << "Unsupported, by reason (top 15):\n";
  std::vector<std::pair<int, std::string>> reasons;
  for (auto& kv : unsupportedReasons) reasons.push_back({kv.second, kv.first});
  std::sort(reasons.rbegin(), reasons.rend());
  for (size_t i = 0; i < reasons.size() && i < 15; ++i) std::cout << "  " << reasons[i].first << "  " << reasons[i].second << "\n";
  std::cout << "ONNX node tests: " << counts["passed"] << " passed, " << counts["failed"] << " failed, "
            << counts["unsupported"] << " unsupported (of " << counts["passed"] + counts["failed"] + counts["unsupported"] << ")\n";
  if (!report.empty()) {
    nlohmann::json doc = {{"passed", counts["passed"]}, {"failed", counts["failed"]}, {"unsupported", counts["unsupported"]},
                          {"tests", results}};
    std::ofstream(report) << doc.dump(1) << "\n";
  }
  if (counts["failed"] > 0) return 1;
  if (counts["passed"] < minPass) {
    std::cout << "fewer than " << minPass << " tests passed\n";
    return 1;
  }
  return 0;
}
