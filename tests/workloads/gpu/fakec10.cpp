// A stand-in for PyTorch's libc10.so: the allocator reporting hook its
// caching allocator calls for every block it hands out (alloc_size > 0) or
// takes back (alloc_size < 0), with c10's signature (and so its mangled name).
#include <cstddef>
#include <cstdint>

namespace c10 {
struct Device {
	int8_t type;
	int8_t index;
};
void reportMemoryUsageToProfiler(void *ptr, int64_t alloc_size, size_t total_allocated, size_t total_reserved,
				 Device device)
{
	asm volatile("" : : "r"(ptr), "r"(alloc_size), "r"(total_allocated), "r"(total_reserved), "r"(device.index));
}
}  // namespace c10
