// Status and Expected<T>: errors as values (DESIGN rule 7).
//
// Every fallible library call returns a Status or an Expected<T>. A Status carries a code, a
// message and where the error happened (a file, an ONNX node name and op type, a layer name).
// Tools turn a Status into one line on stderr with toString() and exit nonzero. Nothing in libtrt
// aborts the process and no exception crosses the public API.
// Thread safety: plain values; copy freely.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace trt {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // bad user input: option, shape, dtype, name
  kNotFound,         // a file, tensor or binding does not exist
  kUnsupported,      // valid input that trt does not implement (an op, attribute or dtype)
  kCorrupt,          // a file that is truncated or fails its checksum / parse
  kMismatch,         // a plan for another backend, device or format version
  kRuntime,          // a failure while running (backend error)
  kInternal,         // a bug in trt
};

const char* statusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  bool isOk() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return isOk(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Adds location context in front of the message, e.g. "node 'conv1' (Conv, opset 17): ".
  Status& withContext(const std::string& where);
  // One line: "<message>" (the code name is implied by the wording of the message).
  std::string toString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status makeError(StatusCode code, std::string message) { return Status(code, std::move(message)); }

// Expected<T> holds either a value or a non-ok Status.
template <typename T>
class Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}                                // NOLINT
  Expected(Status status) : v_(std::move(status)) {}                         // NOLINT
  bool isOk() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return isOk(); }
  const Status& status() const {
    static const Status kOkStatus;
    return isOk() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() { return std::get<T>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace trt

// Returns early from the enclosing function when `expr` yields a non-ok Status.
#define TRT_RETURN_IF_ERROR(expr)          \
  do {                                     \
    ::trt::Status trtStatus_ = (expr);     \
    if (!trtStatus_.isOk()) return trtStatus_; \
  } while (0)

#define TRT_CONCAT_INNER_(a, b) a##b
#define TRT_CONCAT_(a, b) TRT_CONCAT_INNER_(a, b)
// Declares `lhs` from an Expected<T>, returning its Status on error. It expands to several
// statements: put braces around it under an if.
#define TRT_ASSIGN_OR_RETURN(lhs, expr) TRT_ASSIGN_OR_RETURN_IMPL_(TRT_CONCAT_(trtExp_, __LINE__), lhs, expr)
#define TRT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.isOk()) return tmp.status();            \
  lhs = std::move(tmp).value()
