// The backend registry: "cpu" always; "cuda" when this libtrt was built with CUDA and a device
// is present.
#include "backends/backend.h"

namespace trt {
namespace cpu {
const Backend* cpuBackend();
}
#ifdef TRT_HAVE_CUDA
namespace cuda {
const Backend* cudaBackend(std::string* why);
}
#endif

const Backend* findBackend(const std::string& name) {
  if (name == "cpu") return cpu::cpuBackend();
#ifdef TRT_HAVE_CUDA
  if (name == "cuda") return cuda::cudaBackend(nullptr);
#endif
  return nullptr;
}

std::vector<std::string> backendNames() {
  std::vector<std::string> r = {"cpu"};
  if (findBackend("cuda")) r.push_back("cuda");
  return r;
}

std::string backendUnavailableReason(const std::string& name) {
  if (name == "cuda") {
#ifdef TRT_HAVE_CUDA
    std::string why;
    cuda::cudaBackend(&why);
    return why;
#else
    return "this trt was built without the CUDA backend (no nvcc, cuBLASLt or cuDNN at build time)";
#endif
  }
  return "unknown device '" + name + "' (use cpu or cuda)";
}

}  // namespace trt
