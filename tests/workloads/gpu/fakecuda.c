/*
 * A stand-in for libcuda.so.1 with the CUDA driver API's signatures (the
 * functions dfrecord probes, cuda.h's types), for testing without a GPU:
 * "device" memory is host memory from malloc (so host and device blocks
 * share one address space, as they would not have to), VMM handles are
 * malloc'd too, reserved address ranges a bump pointer.  A zero-sized
 * allocation fails as the driver's does (CUDA_ERROR_INVALID_VALUE).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
typedef unsigned long long CUmemGenericAllocationHandle;
typedef struct CUstream_st *CUstream;
typedef struct CUmemPoolHandle_st *CUmemoryPool;
typedef struct CUmemAllocationProp_st {
	int type, requestedHandleTypes;
	struct { int type, id; } location;
	void *win32HandleMetaData;
	struct { unsigned char compressionType, gpuDirectRDMACapable; unsigned short usage; unsigned char reserved[4]; } allocFlags;
} CUmemAllocationProp;

enum { CUDA_SUCCESS = 0, CUDA_ERROR_INVALID_VALUE = 1 };

static CUdeviceptr next_va = 0x7f0000000000ULL;

static CUresult take(CUdeviceptr *dptr, size_t bytes)
{
	void *p;

	if (!dptr || !bytes || !(p = malloc(bytes)))
		return CUDA_ERROR_INVALID_VALUE;
	*dptr = (CUdeviceptr)(uintptr_t)p;
	return CUDA_SUCCESS;
}

CUresult cuInit(unsigned flags) { (void)flags; return CUDA_SUCCESS; }
CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytes) { return take(dptr, bytes); }
CUresult cuMemAllocManaged(CUdeviceptr *dptr, size_t bytes, unsigned flags) { (void)flags; return take(dptr, bytes); }
CUresult cuMemAllocAsync(CUdeviceptr *dptr, size_t bytes, CUstream s) { (void)s; return take(dptr, bytes); }
CUresult cuMemAllocFromPoolAsync(CUdeviceptr *dptr, size_t bytes, CUmemoryPool pool, CUstream s)
{
	(void)pool, (void)s;
	return take(dptr, bytes);
}

CUresult cuMemAllocPitch_v2(CUdeviceptr *dptr, size_t *pitch, size_t width, size_t height, unsigned elem)
{
	(void)elem;
	if (!pitch || !width || !height)
		return CUDA_ERROR_INVALID_VALUE;
	*pitch = (width + 511) & ~(size_t)511;
	return take(dptr, *pitch * height);
}

CUresult cuMemFree_v2(CUdeviceptr dptr)
{
	if (!dptr)
		return CUDA_ERROR_INVALID_VALUE;
	free((void *)(uintptr_t)dptr);
	return CUDA_SUCCESS;
}
CUresult cuMemFreeAsync(CUdeviceptr dptr, CUstream s) { (void)s; return cuMemFree_v2(dptr); }

CUresult cuMemCreate(CUmemGenericAllocationHandle *handle, size_t size, const CUmemAllocationProp *prop,
		     unsigned long long flags)
{
	(void)prop, (void)flags;
	return take(handle, size);
}

CUresult cuMemRelease(CUmemGenericAllocationHandle handle) { return cuMemFree_v2(handle); }
CUresult cuMemAddressReserve(CUdeviceptr *ptr, size_t size, size_t align, CUdeviceptr addr, unsigned long long flags)
{
	(void)align, (void)addr, (void)flags;
	if (!ptr || !size)
		return CUDA_ERROR_INVALID_VALUE;
	*ptr = next_va;
	next_va += (size + 0xfffff) & ~0xfffffULL;
	return CUDA_SUCCESS;
}
CUresult cuMemMap(CUdeviceptr ptr, size_t size, size_t offset, CUmemGenericAllocationHandle h, unsigned long long flags)
{
	(void)ptr, (void)size, (void)offset, (void)flags;
	return h ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
CUresult cuMemUnmap(CUdeviceptr ptr, size_t size) { (void)ptr, (void)size; return CUDA_SUCCESS; }
