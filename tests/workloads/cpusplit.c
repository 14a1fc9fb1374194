/* CPU split between three functions, 60/30/10 by work: cpusplit SECONDS (of
 * its own CPU time, so that a loaded machine does not thin its samples).
 * A round is a millisecond or two: with a steady period it can beat with
 * the sampling period (or a co-runner's time slices) and tilt the split
 * (CI once read 70% and 76% for hot_a); a short sleep of random length
 * between rounds keeps the sampler from locking onto the loop. */
#include <stdlib.h>
#include <time.h>

volatile unsigned long sink;

#define WORK(n)                                            \
	do {                                               \
		unsigned long acc = sink;                  \
		for (unsigned long i = 0; i < (n); i++)    \
			acc = acc * 6364136223846793005UL + i; \
		sink = acc;                                \
	} while (0)

__attribute__((noinline)) void hot_a(void) { WORK(600000); }
__attribute__((noinline)) void hot_b(void) { WORK(300000); }
__attribute__((noinline)) void hot_c(void) { WORK(100000); }

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2, end = now() + secs;

	srand((unsigned)time(NULL));
	while (now() < end) {
		struct timespec jitter = { 0, rand() % 100000 };

		hot_a();
		hot_b();
		hot_c();
		nanosleep(&jitter, NULL);
	}
	return 0;
}
