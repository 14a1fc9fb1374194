/* A CPU-bound leaf DEPTH frames deep, for the BPF walk's cost per sample: deep SECONDS DEPTH. */
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static unsigned long descend(int depth, double until)
{
	volatile unsigned long here = depth;	/* read after the call: a frame each, no loop */
	unsigned long s = 0;

	if (depth > 1)
		return descend(depth - 1, until) + here;
	while (now() < until)
		for (int i = 0; i < 100000; i++)
			s += (unsigned long)i * i;
	return s;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2;
	int depth = argc > 2 ? atoi(argv[2]) : 30;

	/* main, __libc_start_call_main, __libc_start_main, _start: 4 more */
	sink = descend(depth > 4 ? depth - 4 : 1, now() + secs);
	return 0;
}
