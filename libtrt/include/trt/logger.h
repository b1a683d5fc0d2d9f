// Logger: where the library reports progress and warnings.
//
// The library never prints by itself; it calls the Logger it was given. The default logger writes
// warnings and errors to stderr. Thread safety: log() may be called from several threads; the
// default logger serialises its writes.
#pragma once

#include <string>

namespace trt {

enum class Severity { kError = 0, kWarning = 1, kInfo = 2, kVerbose = 3 };

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(Severity severity, const std::string& message) = 0;
};

// Writes messages at or above `minSeverity` to stderr as "[trt] W: ...".
class StderrLogger : public Logger {
 public:
  explicit StderrLogger(Severity minSeverity = Severity::kWarning) : min_(minSeverity) {}
  void log(Severity severity, const std::string& message) override;
  void setMinSeverity(Severity s) { min_ = s; }

 private:
  Severity min_;
};

// The process-wide default (warnings and errors).
Logger& defaultLogger();

}  // namespace trt
