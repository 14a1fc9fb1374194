/* CPU split between three functions, 60/30/10 by work: cpusplit SECONDS (of
 * its own CPU time, so that a loaded machine does not thin its samples).
 * The three are called in a random order, each with the same chance: in
 * fixed rounds of a millisecond or two the loop's period could beat with
 * the sampling period or a co-runner's time slices and tilt the split (CI
 * read 70% and 76% for hot_a); a memoryless sequence has no period to beat
 * with, and each function's share is still its share of the work. */
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

	srand(1);
	while (now() < end) {
		int which = rand() % 3;

		if (which == 0)
			hot_a();
		else if (which == 1)
			hot_b();
		else
			hot_c();
	}
	return 0;
}
