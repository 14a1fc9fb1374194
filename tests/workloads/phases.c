/* Two phases one after the other, each in a function of its own:
 * phases SECONDS (each phase lasts SECONDS) */
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void phase_one(double end)
{
	while (now() < end)
		for (int i = 0; i < 100000; i++)
			sink = sink * 6364136223846793005UL + i;
}

__attribute__((noinline)) static void phase_two(double end)
{
	while (now() < end)
		for (int i = 0; i < 100000; i++)
			sink = sink * 2862933555777941757UL + i;
}

int main(int argc, char **argv)
{
	double each = argc > 1 ? atof(argv[1]) : 1, t = now();

	phase_one(t + each);
	phase_two(t + 2 * each);
	return 0;
}
