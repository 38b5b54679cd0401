#include "probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>

#include "probe.skel.h"
#include "probe_error.h"

namespace peregrine {

namespace {

constexpr const char* kBtfPath = "/sys/kernel/btf/vmlinux";
constexpr size_t kLibbpfLogBytes = 4096;  // tail of libbpf's output kept for error messages
constexpr int kCapSysAdmin = 21;
constexpr int kCapPerfmon = 38;
constexpr int kCapBpf = 39;

// libbpf reports through a process-wide callback. The addon only calls libbpf from the main
// JavaScript thread, so this buffer needs no lock.
std::string libbpf_log;

int capture_libbpf_output(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[512];
  int n = vsnprintf(line, sizeof(line), format, args);
  libbpf_log.append(line);
  if (libbpf_log.size() > kLibbpfLogBytes) {
    libbpf_log.erase(0, libbpf_log.size() - kLibbpfLogBytes);
  }
  return n;
}

bool has_capability(const __user_cap_data_struct (&data)[2], int cap) {
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

[[noreturn]] void fail_unavailable(const std::string& step, int error) {
  std::string message = step + " failed: " + strerror(error);
  if (error == EPERM || error == EACCES) {
    message +=
        ". The bpf() syscall was denied: a seccomp profile, a locked-down kernel or a missing "
        "capability (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) blocks it";
  }
  if (!libbpf_log.empty()) message += ". libbpf output: " + libbpf_log;
  throw ProbeError(kCodeProbeUnavailable, message);
}

}  // namespace

std::string unavailable_reason() {
  if (access(kBtfPath, R_OK) != 0) {
    return std::string("the kernel exposes no BTF at ") + kBtfPath +
           "; the probe needs a kernel built with CONFIG_DEBUG_INFO_BTF=y";
  }

  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) {
    return std::string("reading the process capabilities failed: ") + strerror(errno);
  }
  bool can_load = has_capability(data, kCapSysAdmin) ||
                  (has_capability(data, kCapBpf) && has_capability(data, kCapPerfmon));
  if (!can_load) {
    return "loading the probe needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, and this process "
           "has neither; run it as root or grant those capabilities";
  }
  return "";
}

Probe::Probe(const ProbeOptions& options) : ring_bytes_(options.ring_bytes) {
  std::string reason = unavailable_reason();
  if (!reason.empty()) throw ProbeError(kCodeProbeUnavailable, reason);

  libbpf_set_print(capture_libbpf_output);
  libbpf_log.clear();
  try {
    load(options);
  } catch (...) {
    close();
    throw;
  }
  boot_epoch_ns_ = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
}

Probe::~Probe() { close(); }

void Probe::load(const ProbeOptions& options) {
  skel_ = probe_bpf__open();
  if (skel_ == nullptr) fail_unavailable("opening the BPF object", errno);

  skel_->rodata->ignored_tgid = options.ignored_tgid;
  skel_->rodata->use_unified_cgroup = options.unified_cgroup ? 1 : 0;
  int err = bpf_map__set_max_entries(skel_->maps.events, static_cast<__u32>(ring_bytes_));
  if (err != 0) fail_unavailable("sizing the ring buffer", -err);

  err = probe_bpf__load(skel_);
  if (err != 0) fail_unavailable("loading the BPF program", -err);

  fill_specs(options);

  err = probe_bpf__attach(skel_);
  if (err != 0) fail_unavailable("attaching the tracepoints", -err);

  reader_ = std::make_unique<RingReader>(bpf_map__fd(skel_->maps.events), ring_bytes_);
}

void Probe::fill_specs(const ProbeOptions& options) {
  int fd = bpf_map__fd(skel_->maps.syscall_specs);
  for (const SyscallSpecEntry& entry : options.syscalls) {
    if (entry.nr >= PG_MAX_SYSCALL_NR) {
      throw ProbeError(kCodeSourceFailed,
                       "syscall number " + std::to_string(entry.nr) + " is outside the spec table");
    }
    if (bpf_map_update_elem(fd, &entry.nr, &entry.spec, BPF_ANY) != 0) {
      fail_unavailable("filling the syscall spec table", errno);
    }
  }
}

BatchResult Probe::read_batch(uint8_t* dst, size_t capacity) {
  if (!reader_) throw ProbeError(kCodeSourceFailed, "reading the probe failed: it is closed");
  return reader_->read(dst, capacity);
}

ProbeStats Probe::stats() const {
  ProbeStats stats;
  stats.ring_bytes = ring_bytes_;
  if (skel_ == nullptr || !reader_) return stats;

  stats.pending_bytes = reader_->pending_bytes();
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return stats;
  std::vector<uint64_t> values(static_cast<size_t>(cpus));
  int fd = bpf_map__fd(skel_->maps.counters);
  for (uint32_t key = 0; key < PG_COUNTER_COUNT; key++) {
    if (bpf_map_lookup_elem(fd, &key, values.data()) != 0) continue;
    for (uint64_t value : values) stats.counters[key] += value;
  }
  return stats;
}

void Probe::close() {
  reader_.reset();
  if (skel_ != nullptr) {
    probe_bpf__destroy(skel_);
    skel_ = nullptr;
  }
}

}  // namespace peregrine
