// Generated Pointwise kernels (see pointwise_nvrtc.h).
#include "backends/cuda/pointwise_nvrtc.h"

#include <nvrtc.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>

namespace trt {
namespace nvrtc_headers {
extern const char* const kUnaryOp;     // kernels/unary_op.h (generated nvrtc_headers.cpp)
extern const char* const kUnaryApply;  // kernels/unary_apply.cuh
}  // namespace nvrtc_headers

namespace cuda_pointwise {
namespace {

using kernels::kMaxRank;
using kernels::kPwInputs;
using kernels::PointwiseProgram;

// The kernel's one argument; the generated source declares the same struct (kArgsSource).
struct PwArgs {
  const void* in[kPwInputs];
  int64_t stride[kPwInputs][kMaxRank];
  uint32_t mul[kMaxRank], shift[kMaxRank], dim[kMaxRank];
  void* out;
  int32_t n, rank;
};

const char* const kArgsSource = R"(
struct PwArgs {
  const void* in[8];
  long long stride[8][8];
  unsigned int mul[8], shift[8], dim[8];
  void* out;
  int n, rank;
};
)";
static_assert(kPwInputs == 8 && kMaxRank == 8, "kArgsSource spells the sizes");

// A float as an exact expression (its bits), whatever it is (inf, nan, -0).
std::string floatLiteral(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  std::ostringstream s;
  s << "__int_as_float(0x" << std::hex << bits << ")";
  return s.str();
}

std::string reg(int r) {
  return "r" + std::to_string(r);
}

// Instruction i as "float r<n+i> = ...;".
std::string instruction(const PointwiseProgram& p, int i) {
  const std::string x = reg(p.a[i]), y = reg(p.b[i]);
  std::string e;
  switch (p.op[i]) {
    case 0:
      e = x + " + " + y;
      break;
    case 1:
      e = x + " - " + y;
      break;
    case 2:
      e = x + " * " + y;
      break;
    case 3:
      e = x + " / " + y;
      break;
    case 4:
      e = "(" + y + " == 2.f ? " + x + " * " + x + " : powf(" + x + ", " + y + "))";
      break;
    case 5:
    case 6:  // NaN where either is (fmaxf / fminf alone would take the other)
      e = "(isnan(" + x + ") || isnan(" + y +
          ") ? __int_as_float(0x7fc00000) : " + (p.op[i] == 5 ? "fmaxf(" : "fminf(") + x + ", " + y + "))";
      break;
    default:
      e = "trt::kernels::unaryApply(static_cast<trt::kernels::UnaryOp>(" + std::to_string(p.op[i] - 100) +
          "), " + x + ", " + floatLiteral(p.p0[i]) + ", " + floatLiteral(p.p1[i]) + ")";
  }
  return "      const float " + reg(p.numInputs + i) + " = " + e + ";\n";
}

// Loads and instructions for `result` (registers in `m`); piece inputs read at `at` within their
// piece (`piece` >= 0: the code runs for that piece's elements). With `shape` (a kernel for one
// output shape), the inputs' strides are p.inStrides as literals and the indices i<d> constants'
// quotients: only the nonzero terms are written.
std::string body(const PointwiseProgram& p, uint32_t m, int result, bool pieces,
                 const kernels::Shape8* shape) {
  std::ostringstream s;
  for (int j = 0; j < p.numInputs; ++j) {
    if (!(m >> j & 1u)) continue;
    const int pj = p.inPiece[j];
    const bool inPiece = pieces && pj >= 0;
    const int64_t start = inPiece && pj ? p.pieceEnd[pj - 1] : 0, len = inPiece ? p.pieceEnd[pj] - start : 0;
    if (shape) {
      s << "      const int o" << j << " = 0";
      for (int d = 0; d < shape->rank; ++d) {
        const int64_t st = p.inStrides[j].strides[d];
        if (st == 0 || shape->dims[d] == 1) continue;
        if (inPiece && d == p.pieceAxis)
          s << " + min(max(at - " << start << ", 0), " << len - 1 << ") * " << st;
        else
          s << " + i" << d << " * " << st;
      }
      s << ";\n";
    } else {
      s << "      int o" << j << " = 0;\n";
      s << "#pragma unroll\n      for (int d = 0; d < 8; ++d)\n";
      if (inPiece) {
        s << "        if (d < a.rank) o" << j << " += (d == " << p.pieceAxis << " ? min(max(at - " << start
          << ", 0), " << len - 1 << ") : idx[d]) * (int)a.stride[" << j << "][d];\n";
      } else {
        s << "        if (d < a.rank) o" << j << " += idx[d] * (int)a.stride[" << j << "][d];\n";
      }
    }
    s << "      const float " << reg(j) << " = LOAD(a.in[" << j << "], o" << j << ");\n";
  }
  for (int i = 0; i < p.numInstructions; ++i)
    if (m >> (p.numInputs + i) & 1u) s << instruction(p, i);
  s << "      y = " << reg(result) << ";\n";
  return s.str();
}

}  // namespace

std::string pointwiseSource(const PointwiseProgram& p, bool half, const kernels::Shape8* shape) {
  std::ostringstream s;
  s << "#include \"unary_apply.cuh\"\n" << kArgsSource;
  if (half)
    s << "__device__ __forceinline__ float LOAD(const void* p, int i) {\n"
         "  unsigned short h = static_cast<const unsigned short*>(p)[i];\n"
         "  float f;\n  asm(\"cvt.f32.f16 %0, %1;\" : \"=f\"(f) : \"h\"(h));\n  return f;\n}\n"
         "__device__ __forceinline__ void STORE(void* p, int i, float f) {\n"
         "  unsigned short h;\n  asm(\"cvt.rn.f16.f32 %0, %1;\" : \"=h\"(h) : \"f\"(f));\n"
         "  static_cast<unsigned short*>(p)[i] = h;\n}\n";
  else
    s << "__device__ __forceinline__ float LOAD(const void* p, int i) { return static_cast<const "
         "float*>(p)[i]; }\n"
         "__device__ __forceinline__ void STORE(void* p, int i, float f) { static_cast<float*>(p)[i] = f; "
         "}\n";
  s << "extern \"C\" __global__ void __launch_bounds__(256) trt_pointwise(const PwArgs a) {\n";
  // (first, as in every trt kernel: kernel_common.cuh's TRT_WAIT_PRIOR_GRID)
  s << "#if __CUDA_ARCH__ >= 900\n  asm volatile(\"griddepcontrol.wait;\" ::: \"memory\");\n#endif\n";
  if (shape) {
    // One output shape: its element count and dims as literals, the index of each dim a constant
    // division (dims of 1 have none).
    int64_t n = 1;
    for (int d = 0; d < shape->rank; ++d) n *= shape->dims[d];
    s << "  for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < " << n
      << "; e += gridDim.x * blockDim.x) {\n"
      << "    unsigned int rem = static_cast<unsigned int>(e);\n";
    for (int d = shape->rank - 1; d >= 0; --d) {
      if (shape->dims[d] == 1) {
        s << "    const int i" << d << " = 0;\n";
        continue;
      }
      s << "    const int i" << d << " = static_cast<int>(rem % " << shape->dims[d] << "u);\n";
      if (d > 0) s << "    rem /= " << shape->dims[d] << "u;\n";
    }
    s << "    float y;\n";
  } else {
    s << "  for (int e = blockIdx.x * blockDim.x + threadIdx.x; e < a.n; e += gridDim.x * blockDim.x) {\n"
         "    int idx[8];\n    unsigned int rem = static_cast<unsigned int>(e);\n"
         "#pragma unroll\n    for (int d = 7; d >= 0; --d) {\n      idx[d] = 0;\n"
         "      if (d < a.rank) {\n"
         "        const unsigned int q = (__umulhi(rem, a.mul[d]) + rem) >> a.shift[d];\n"
         "        idx[d] = static_cast<int>(rem - q * a.dim[d]);\n        rem = q;\n      }\n    }\n"
         "    float y;\n";
  }
  if (p.pieceAxis < 0) {
    const int result = p.numInputs + p.numInstructions - 1;
    s << "    {\n" << body(p, kernels::pointwiseNeeds(p, result), result, false, shape) << "    }\n";
  } else if (shape) {
    s << "    const int at = i" << p.pieceAxis << ";\n";
  } else {
    s << "    int at = 0;\n#pragma unroll\n    for (int d = 0; d < 8; ++d)\n      if (d == " << p.pieceAxis
      << ") at = idx[d];\n";
  }
  if (p.pieceAxis >= 0) {
    for (int piece = 0; piece < p.numPieces; ++piece) {
      const bool lastPiece = piece + 1 == p.numPieces;
      s << "    " << (piece ? "else " : "")
        << (lastPiece ? "" : "if (at < " + std::to_string(p.pieceEnd[piece]) + ") ") << "{\n"
        << body(p, kernels::pointwiseNeeds(p, p.pieceResult[piece]), p.pieceResult[piece], true, shape)
        << "    }\n";
    }
  }
  s << "    STORE(a.out, e, y);\n  }\n}\n";
  return s.str();
}

Expected<std::string> compileToCubin(const std::string& source, int major, int minor) {
  nvrtcProgram prog;
  const char* headers[] = {nvrtc_headers::kUnaryOp, nvrtc_headers::kUnaryApply};
  const char* names[] = {"unary_op.h", "unary_apply.cuh"};
  if (nvrtcCreateProgram(&prog, source.c_str(), "trt_pointwise.cu", 2, headers, names) != NVRTC_SUCCESS)
    return makeError(StatusCode::kInternal, "NVRTC could not create the Pointwise program");
  const std::string arch = "--gpu-architecture=sm_" + std::to_string(major) + std::to_string(minor);
  const char* opts[] = {arch.c_str(), "--std=c++17"};
  const nvrtcResult r = nvrtcCompileProgram(prog, 2, opts);
  if (r != NVRTC_SUCCESS) {
    size_t n = 0;
    nvrtcGetProgramLogSize(prog, &n);
    std::string log(n, '\0');
    if (n) nvrtcGetProgramLog(prog, log.data());
    nvrtcDestroyProgram(&prog);
    return makeError(StatusCode::kInternal, std::string("NVRTC failed on a generated Pointwise kernel (") +
                                                nvrtcGetErrorString(r) + "): " + log.substr(0, 400));
  }
  size_t n = 0;
  nvrtcGetCUBINSize(prog, &n);
  std::string cubin(n, '\0');
  nvrtcGetCUBIN(prog, cubin.data());
  nvrtcDestroyProgram(&prog);
  return cubin;
}

// A loaded kernel; its library stays loaded for the process (the cache below is never destroyed,
// so nothing unloads it while the CUDA runtime shuts down).
class GeneratedKernel {
 public:
  cudaLibrary_t library = nullptr;
  cudaKernel_t kernel = nullptr;
};

Expected<std::shared_ptr<const GeneratedKernel>> generatedKernel(const PointwiseProgram& prog, bool half,
                                                                 const kernels::Shape8* shape) {
  static std::mutex mu;
  static auto* cache = new std::map<std::string, std::shared_ptr<const GeneratedKernel>>();
  int device = 0, major = 0, minor = 0;
  if (cudaGetDevice(&device) != cudaSuccess ||
      cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
      cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) {
    cudaGetLastError();
    return makeError(StatusCode::kUnsupported, "no CUDA device for a generated Pointwise kernel");
  }
  const std::string source = pointwiseSource(prog, half, shape);
  const std::string key =
      std::to_string(device) + ":" + std::to_string(major) + std::to_string(minor) + "\n" + source;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache->find(key); it != cache->end()) return it->second;
  TRT_ASSIGN_OR_RETURN(std::string cubin, compileToCubin(source, major, minor));
  auto k = std::make_shared<GeneratedKernel>();
  if (cudaLibraryLoadData(&k->library, cubin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0) !=
          cudaSuccess ||
      cudaLibraryGetKernel(&k->kernel, k->library, "trt_pointwise") != cudaSuccess) {
    const cudaError_t e = cudaGetLastError();
    return makeError(StatusCode::kInternal,
                     std::string("loading a generated Pointwise kernel: ") + cudaGetErrorString(e));
  }
  (*cache)[key] = k;
  return std::shared_ptr<const GeneratedKernel>(k);
}

cudaError_t launchGenerated(const GeneratedKernel& k, const PointwiseProgram& prog, void* out,
                            const kernels::Shape8& os, cudaStream_t stream) {
  int64_t n = 1;
  for (int d = 0; d < os.rank; ++d) n *= os.dims[d];
  if (n == 0) return cudaSuccess;
  if (n >= (int64_t{1} << 31) || os.rank > kMaxRank) return cudaErrorInvalidValue;
  PwArgs a{};
  for (int j = 0; j < prog.numInputs; ++j) {
    a.in[j] = prog.in[j];
    for (int d = 0; d < os.rank; ++d) a.stride[j][d] = prog.inStrides[j].strides[d];
  }
  for (int d = 0; d < os.rank; ++d) {
    kernels::divisionBy(os.dims[d], a.mul[d], a.shift[d]);
    a.dim[d] = static_cast<uint32_t>(os.dims[d]);
  }
  a.out = out;
  a.n = static_cast<int32_t>(n);
  a.rank = os.rank;
  void* args[] = {&a};
  const int64_t blocks = std::min<int64_t>((n + 255) / 256, 65535 * 8);
  return cudaLaunchKernel(reinterpret_cast<const void*>(k.kernel), dim3(static_cast<unsigned>(blocks)),
                          dim3(256), args, 0, stream);
}

}  // namespace cuda_pointwise
}  // namespace trt
