/* A library whose CFI run-bpfunwind.sh damages: lib_spin SECONDS. */
#include <time.h>

static volatile unsigned long sink;

__attribute__((noinline)) static void lib_inner(void)
{
	for (int i = 0; i < 100000; i++)
		sink += (unsigned long)i * i;
}

void lib_spin(double secs)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	do {
		lib_inner();
		clock_gettime(CLOCK_MONOTONIC, &b);
	} while ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9 < secs);
}
