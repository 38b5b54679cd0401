// Consumer side of a BPF ring buffer map, read through its memory mapping without libbpf's
// epoll loop. Unlike ring_buffer__consume(), it can stop before a record that does not fit the
// caller's buffer and leave it in the ring for the next call, so no record is lost to a full batch.
#ifndef PEREGRINE_RING_READER_H
#define PEREGRINE_RING_READER_H

#include <cstddef>
#include <cstdint>

namespace peregrine {

struct BatchResult {
  size_t bytes = 0;
  uint32_t records = 0;
};

class RingReader {
 public:
  // Maps the ring of `map_fd`, whose data area is `ring_bytes` long. Throws ProbeError.
  RingReader(int map_fd, size_t ring_bytes);
  ~RingReader();
  RingReader(const RingReader&) = delete;
  RingReader& operator=(const RingReader&) = delete;

  // Copies whole records, back to back, into dst until the ring is empty or the next record does
  // not fit in `capacity` bytes. It makes no syscall and does not wait for the kernel.
  BatchResult read(uint8_t* dst, size_t capacity);

  // Bytes the kernel has written and this reader has not consumed yet.
  uint64_t pending_bytes() const;

 private:
  size_t page_bytes_;
  size_t ring_bytes_;
  void* consumer_page_ = nullptr;  // read-write: the consumer position
  void* producer_area_ = nullptr;  // read-only: producer position page, then the data twice
};

}  // namespace peregrine

#endif  // PEREGRINE_RING_READER_H
