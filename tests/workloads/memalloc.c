/* A known allocation pattern from distinct functions: memalloc [big|mapped]
 *   fn_malloc_freed: 1000 x malloc(4096), each freed    -> 4,096,000 allocated, 0 in use
 *   fn_calloc_kept:  500 x calloc(10, 100), kept        -> 500,000 allocated and in use
 *   fn_realloc_chain: realloc(NULL, 64) .. 65536, kept  -> 131,008 allocated, 65,536 in use
 *   fn_aligned_kept: 10 x posix_memalign(64, 1000) and 10 x aligned_alloc(64, 1024), kept
 *                                                        -> 20,240 allocated and in use
 * With "big": fn_big_churn allocates 50,000 blocks of 1..8191 bytes, freeing each
 * (204,816,122 bytes in all), for sampling.  With "mapped" instead of the
 * pattern, blocks the C library maps for themselves (over its largest mmap
 * threshold, 32 MiB), each an mmap inside malloc:
 *   fn_mapped_freed: 4 x malloc(48 MiB), each freed       -> 201,326,592 allocated, 0 in use
 *   fn_mapped_kept:  malloc(40 MiB), kept                  -> 41,943,040 allocated and in use */
#include <stdlib.h>
#include <string.h>
#define MiB (1024 * 1024)
#include <unistd.h>

void *volatile keep[4096];
void *volatile hold;
int nk;

__attribute__((noinline)) void fn_malloc_freed(void)
{
	for (int i = 0; i < 1000; i++) {
		hold = malloc(4096);
		free(hold);
	}
}

__attribute__((noinline)) void fn_calloc_kept(void)
{
	for (int i = 0; i < 500; i++)
		keep[nk++] = calloc(10, 100);
}

__attribute__((noinline)) void fn_realloc_chain(void)
{
	void *p = NULL;

	for (size_t n = 64; n <= 65536; n *= 2)
		p = realloc(p, n);
	keep[nk++] = p;
}

__attribute__((noinline)) void fn_aligned_kept(void)
{
	for (int i = 0; i < 10; i++) {
		void *p;

		if (posix_memalign(&p, 64, 1000) == 0)
			keep[nk++] = p;
		keep[nk++] = aligned_alloc(64, 1024);
	}
}

__attribute__((noinline)) void fn_big_churn(void)
{
	for (int i = 0; i < 50000; i++) {
		hold = malloc(1 + (i * 7919u) % 8191);
		free(hold);
	}
}

__attribute__((noinline)) void fn_mapped_freed(void)
{
	for (int i = 0; i < 4; i++) {
		hold = malloc(48 * MiB);
		free(hold);
	}
}

__attribute__((noinline)) void fn_mapped_kept(void)
{
	keep[nk++] = malloc(40 * MiB);
}

int main(int argc, char **argv)
{
	/* A moment for dfrecord to read the maps of a new process (see memnew.cpp). */
	usleep(200000);
	if (argc > 1 && !strcmp(argv[1], "mapped")) {
		fn_mapped_freed();
		fn_mapped_kept();
		usleep(200000);
		return 0;
	}
	fn_malloc_freed();
	fn_calloc_kept();
	fn_realloc_chain();
	fn_aligned_kept();
	if (argc > 1)
		fn_big_churn();
	usleep(200000);
	return 0;
}
