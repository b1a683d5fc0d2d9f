// trtrun: run an engine plan on .npy inputs and write its outputs as .npy.
//   trtrun ENGINE.plan --input NAME:FILE.npy ... [--output-dir DIR] [--random-inputs] [--shapes ...]
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>

#include "common/npy.h"
#include "common/options.h"
#include "common/tool_util.h"

using namespace trt;
using namespace trt::tools;

namespace {

// Output names may hold characters that are not file-name safe.
std::string fileNameFor(const std::string& name) {
  std::string s;
  for (char c : name) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') ? c : '_';
  return s.empty() ? "output" : s;
}

void printStats(const std::string& name, const HostTensor& t) {
  double mn = INFINITY, mx = -INFINITY, sum = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    double v = t.doubleAt(i);
    mn = std::min(mn, v);
    mx = std::max(mx, v);
    sum += v;
  }
  std::cout << name << ": shape " << dimsToString(t.dims()) << " " << dataTypeName(t.type());
  if (t.numel())
    std::cout << std::setprecision(6) << " min " << mn << " max " << mx << " mean " << sum / static_cast<double>(t.numel());
  std::cout << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"trtrun: run an engine plan", "trtrun"};
  EngineOptions eng;
  InferenceOptions inf;
  addEngineOptions(app, eng);
  addInferenceOptions(app, inf, true);
  if (int rc = parseCommandLine(app, argc, argv); rc >= 0) return rc;
  if (eng.engine.empty()) return fail("trtrun", makeError(StatusCode::kInvalidArgument, "no engine given (trtrun ENGINE.plan)"));
  struct stat sb;
  if (stat(inf.outputDir.c_str(), &sb) != 0 || !S_ISDIR(sb.st_mode))
    return fail("trtrun", makeError(StatusCode::kNotFound, "output directory '" + inf.outputDir + "' does not exist"));
  auto engine = Engine::loadFile(eng.engine);
  if (!engine.isOk()) return fail("trtrun", engine.status());
  auto ctx = (*engine)->createExecutionContext();
  IoBuffers io;
  if (Status st = prepareInputs(**engine, *ctx, inf, io); !st.isOk()) return fail("trtrun", st);
  if (Status st = bindOutputs(**engine, *ctx, io); !st.isOk()) return fail("trtrun", st);
  if (Status st = ctx->execute(); !st.isOk()) return fail("trtrun", st);
  if (Status st = downloadOutputs(**engine, io); !st.isOk()) return fail("trtrun", st);
  // Every output is computed before any is written; a failed write removes what was written.
  std::vector<std::string> written;
  for (const auto& b : (*engine)->bindings()) {
    if (b.isInput) continue;
    const std::string path = inf.outputDir + "/" + fileNameFor(b.name) + ".npy";
    Status ws = writeNpy(path, io.host.at(b.name));
    if (!ws.isOk()) {
      for (const auto& p : written) std::remove(p.c_str());
      return fail("trtrun", ws);
    }
    written.push_back(path);
  }
  for (const auto& b : (*engine)->bindings())
    if (!b.isInput) printStats(b.name, io.host.at(b.name));
  std::cout << "trtrun: wrote " << written.size() << " output(s) to " << inf.outputDir << std::endl;
  return kExitOk;
}
