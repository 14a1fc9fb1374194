/* A shared library for run-shortlived: short_hot burns the CPU for ms milliseconds. */
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

unsigned long short_hot(double ms)
{
	volatile unsigned long x = 0;
	double end = now_ms() + ms;

	while (now_ms() < end)
		for (int i = 0; i < 10000; i++)
			x += (unsigned long)i * i;
	return x;
}
