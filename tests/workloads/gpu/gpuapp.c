/*
 * Device memory, tensor blocks and registered memory from functions of
 * their own, through the stand-in libraries (or real ones), loaded with
 * dlopen as the CUDA runtime and PyTorch load theirs:
 *   gpuapp [-w SECONDS] cuda|torch|rdma [LIBRARY]
 * -w waits before loading the library (for dfrecord -p).  LIBRARY defaults
 * to libcuda.so.1, libc10.so or libibverbs.so.1 (the loader's search).
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef unsigned long long ptr_t;
#define MiB (1024ULL * 1024)

static void *lib;

static void *fn(const char *name)
{
	void *f = dlsym(lib, name);

	if (!f) {
		fprintf(stderr, "gpuapp: %s: %s\n", name, dlerror());
		exit(1);
	}
	return f;
}

#define CALL(type, name, ...) ((type)fn(name))(__VA_ARGS__)
typedef int (*alloc_fn)(ptr_t *, size_t);

__attribute__((noinline)) static void load_weights(void)
{
	ptr_t p;

	CALL(alloc_fn, "cuMemAlloc_v2", &p, 64 * MiB);	/* kept */
}

__attribute__((noinline)) static void scratch(void)
{
	for (int i = 0; i < 8; i++) {
		ptr_t p;

		CALL(alloc_fn, "cuMemAlloc_v2", &p, 16 * MiB);
		CALL(int (*)(ptr_t), "cuMemFree_v2", p);
	}
}

__attribute__((noinline)) static void pitched(void)
{
	ptr_t p;
	size_t pitch;

	/* 1000 bytes a row pitched to 1024, 1024 rows: 1 MiB, kept */
	CALL(int (*)(ptr_t *, size_t *, size_t, size_t, unsigned), "cuMemAllocPitch_v2", &p, &pitch, 1000, 1024, 4);
}

__attribute__((noinline)) static void managed(void)
{
	ptr_t p;

	CALL(int (*)(ptr_t *, size_t, unsigned), "cuMemAllocManaged", &p, 8 * MiB, 1);
	CALL(int (*)(ptr_t, void *), "cuMemFreeAsync", p, NULL);
}

__attribute__((noinline)) static void async(void)
{
	ptr_t p;

	CALL(int (*)(ptr_t *, size_t, void *), "cuMemAllocAsync", &p, 4 * MiB, NULL);
	CALL(int (*)(ptr_t, void *), "cuMemFreeAsync", p, NULL);
}

__attribute__((noinline)) static void vmm(void)
{
	unsigned long long h;
	ptr_t va;
	int prop[16] = { 0 };

	prop[2] = 1;	/* CUmemAllocationProp.location: CU_MEM_LOCATION_TYPE_DEVICE, */
	prop[3] = 1;	/* device 1 */
	CALL(int (*)(unsigned long long *, size_t, void *, unsigned long long), "cuMemCreate", &h, 32 * MiB, prop, 0);
	CALL(int (*)(ptr_t *, size_t, size_t, ptr_t, unsigned long long), "cuMemAddressReserve", &va, 32 * MiB, 0, 0, 0);
	CALL(int (*)(ptr_t, size_t, size_t, unsigned long long, unsigned long long), "cuMemMap", va, 32 * MiB, 0, h, 0);
	CALL(int (*)(ptr_t, size_t), "cuMemUnmap", va, 32 * MiB);
	CALL(int (*)(unsigned long long), "cuMemRelease", h);
}

__attribute__((noinline)) static void failing(void)
{
	ptr_t p;

	if (CALL(alloc_fn, "cuMemAlloc_v2", &p, 0) == 0)
		fprintf(stderr, "gpuapp: a zero-sized allocation succeeded\n");
}

struct device { int8_t type, index; };
typedef void (*report_fn)(void *, int64_t, size_t, size_t, struct device);

__attribute__((noinline)) static void make_tensors(void)
{
	report_fn report = (report_fn)fn("_ZN3c1027reportMemoryUsageToProfilerEPvlmmNS_6DeviceE");
	struct device cuda0 = { 1, 0 };

	for (uintptr_t i = 1; i <= 3; i++)
		report((void *)(0x7e0000000000 + i * 8 * MiB), 4 * MiB, i * 4 * MiB, 64 * MiB, cuda0);
	report((void *)(0x7e0000000000 + 8 * MiB), -(int64_t)(4 * MiB), 8 * MiB, 64 * MiB, cuda0);	/* one back */
}

typedef void *(*reg_fn)(void *, void *, size_t, int);

__attribute__((noinline)) static void register_buffers(void)
{
	static char buf[16 * MiB];
	void *mr[3];

	for (int i = 0; i < 3; i++)
		mr[i] = CALL(reg_fn, "ibv_reg_mr", NULL, buf + i * 4 * MiB, 4 * MiB, 0);
	CALL(void *(*)(void *, void *, size_t, uint64_t, unsigned), "ibv_reg_mr_iova2", NULL, buf + 12 * MiB, 2 * MiB, 0, 0);
	CALL(int (*)(void *), "ibv_dereg_mr", mr[1]);
}

int main(int argc, char **argv)
{
	const char *mode, *path;
	int a = 1;

	if (argc > 2 && !strcmp(argv[1], "-w")) {
		usleep(atof(argv[2]) * 1e6);
		a = 3;
	}
	if (a >= argc)
		return 2;
	mode = argv[a];
	path = a + 1 < argc ? argv[a + 1] : !strcmp(mode, "cuda") ? "libcuda.so.1" : !strcmp(mode, "torch") ? "libc10.so"
									 : "libibverbs.so.1";
	lib = dlopen(path, RTLD_NOW);
	if (!lib) {
		fprintf(stderr, "gpuapp: %s\n", dlerror());
		return 1;
	}
	/* Real initialization (cuInit, a CUDA context, torch's import) takes far
	 * longer: time for dfrecord to probe a library it saw being mapped. */
	usleep(300000);
	if (!strcmp(mode, "cuda")) {
		CALL(int (*)(unsigned), "cuInit", 0);
		load_weights();
		scratch();
		pitched();
		managed();
		async();
		vmm();
		failing();
	} else if (!strcmp(mode, "torch")) {
		make_tensors();
	} else {
		register_buffers();
	}
	usleep(300000);	/* a program goes on running: dfrecord reads what it maps */
	return 0;
}
