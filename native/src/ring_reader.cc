#include "ring_reader.h"

#include <linux/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "probe_error.h"

namespace peregrine {

namespace {

constexpr uint32_t kRecordHeaderBytes = BPF_RINGBUF_HDR_SZ;

uint64_t load_acquire(const void* address) {
  return __atomic_load_n(static_cast<const uint64_t*>(address), __ATOMIC_ACQUIRE);
}

uint32_t round_up_to_8(uint32_t n) { return (n + 7) & ~7u; }

}  // namespace

// The kernel's mapping layout (kernel/bpf/ringbuf.c) starts with one page holding the consumer
// position, which the consumer writes. Next comes one page holding the producer position, and
// then the data area mapped twice in a row, so a record that wraps around the end reads as one
// piece.
RingReader::RingReader(int map_fd, size_t ring_bytes)
    : page_bytes_(static_cast<size_t>(sysconf(_SC_PAGESIZE))), ring_bytes_(ring_bytes) {
  consumer_page_ = mmap(nullptr, page_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
  if (consumer_page_ == MAP_FAILED) {
    consumer_page_ = nullptr;
    throw ProbeError(kCodeSourceFailed,
                     std::string("mapping the ring consumer page failed: ") + strerror(errno));
  }

  producer_area_ = mmap(nullptr, page_bytes_ + 2 * ring_bytes_, PROT_READ, MAP_SHARED, map_fd,
                        static_cast<off_t>(page_bytes_));
  if (producer_area_ == MAP_FAILED) {
    producer_area_ = nullptr;
    int saved = errno;
    munmap(consumer_page_, page_bytes_);
    consumer_page_ = nullptr;
    throw ProbeError(kCodeSourceFailed,
                     std::string("mapping the ring data failed: ") + strerror(saved));
  }
}

RingReader::~RingReader() {
  if (producer_area_ != nullptr) munmap(producer_area_, page_bytes_ + 2 * ring_bytes_);
  if (consumer_page_ != nullptr) munmap(consumer_page_, page_bytes_);
}

uint64_t RingReader::pending_bytes() const {
  return load_acquire(producer_area_) - load_acquire(consumer_page_);
}

BatchResult RingReader::read(uint8_t* dst, size_t capacity) {
  BatchResult result;
  const uint8_t* data = static_cast<const uint8_t*>(producer_area_) + page_bytes_;
  const uint64_t mask = ring_bytes_ - 1;
  uint64_t consumer = load_acquire(consumer_page_);
  const uint64_t producer = load_acquire(producer_area_);

  while (consumer < producer) {
    const uint8_t* header = data + (consumer & mask);
    uint32_t word = __atomic_load_n(reinterpret_cast<const uint32_t*>(header), __ATOMIC_ACQUIRE);
    if (word & BPF_RINGBUF_BUSY_BIT) break;  // reserved but not yet committed by the kernel

    uint32_t length = word & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
    if ((word & BPF_RINGBUF_DISCARD_BIT) == 0) {
      if (result.bytes + length > capacity) break;
      memcpy(dst + result.bytes, header + kRecordHeaderBytes, length);
      result.bytes += length;
      result.records++;
    }
    consumer += round_up_to_8(length + kRecordHeaderBytes);
  }

  __atomic_store_n(static_cast<uint64_t*>(consumer_page_), consumer, __ATOMIC_RELEASE);
  return result;
}

}  // namespace peregrine
