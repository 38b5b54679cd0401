// The one error type of the addon's C++ side. addon.cc turns it into a JavaScript Error whose
// `code` is one of Peregrine's error codes, so callers match on the code, not on the text.
#ifndef PEREGRINE_PROBE_ERROR_H
#define PEREGRINE_PROBE_ERROR_H

#include <stdexcept>
#include <string>

namespace peregrine {

// Codes from core/errors.ts that native failures map to.
inline constexpr const char* kCodeProbeUnavailable = "PEREGRINE_PROBE_UNAVAILABLE";
inline constexpr const char* kCodeSourceFailed = "PEREGRINE_SOURCE_FAILED";

class ProbeError : public std::runtime_error {
 public:
  ProbeError(const char* code, const std::string& message)
      : std::runtime_error(message), code_(code) {}

  const char* code() const { return code_; }

 private:
  const char* code_;
};

}  // namespace peregrine

#endif  // PEREGRINE_PROBE_ERROR_H
