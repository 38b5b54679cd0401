// Loads the eBPF program, fills its syscall spec table, attaches its tracepoints and reads its
// ring and counters. Plain C++ without Node types, so it can be tested without JavaScript.
#ifndef PEREGRINE_PROBE_H
#define PEREGRINE_PROBE_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "record.h"
#include "ring_reader.h"

struct probe_bpf;

namespace peregrine {

struct SyscallSpecEntry {
  uint32_t nr = 0;
  pg_syscall_spec spec{};
};

struct ProbeOptions {
  size_t ring_bytes = 0;  // power of two, a multiple of the page size
  std::vector<SyscallSpecEntry> syscalls;
  uint32_t ignored_tgid = 0;    // syscalls of this process are not traced
  bool unified_cgroup = false;  // read cgroup paths from the v2 hierarchy
};

struct ProbeStats {
  uint64_t counters[PG_COUNTER_COUNT] = {};  // enum pg_counter, summed over CPUs
  uint64_t pending_bytes = 0;
  size_t ring_bytes = 0;
};

class Probe {
 public:
  // Checks BTF and privileges, then loads and attaches the program. Throws ProbeError with
  // PEREGRINE_PROBE_UNAVAILABLE when this host or process cannot run it.
  explicit Probe(const ProbeOptions& options);
  ~Probe();
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // Copies whole records into dst; see RingReader::read. Throws ProbeError once closed.
  BatchResult read_batch(uint8_t* dst, size_t capacity);
  ProbeStats stats() const;
  // Detaches the program and frees its maps. Safe to call more than once.
  void close();

  // Wall-clock nanoseconds at boot: add to a record's CLOCK_BOOTTIME stamp for epoch time.
  int64_t boot_epoch_ns() const { return boot_epoch_ns_; }

 private:
  void load(const ProbeOptions& options);
  void fill_specs(const ProbeOptions& options);

  probe_bpf* skel_ = nullptr;
  std::unique_ptr<RingReader> reader_;
  size_t ring_bytes_ = 0;
  int64_t boot_epoch_ns_ = 0;
};

// Tells why the probe cannot run here (no BTF, missing capabilities), or "" when it might.
std::string unavailable_reason();

}  // namespace peregrine

#endif  // PEREGRINE_PROBE_H
