/* Frameless leaves under framed callers: main -> beta -> beta_leaf and
 * main -> alpha -> alpha_leaf.  Built with -O2 -fno-omit-frame-pointer, gcc
 * gives the leaves no frame, so a frame-pointer walk from a leaf skips its
 * caller: leaf SECONDS */
#include <stdlib.h>
#include <time.h>

volatile unsigned long sink;

__attribute__((noinline)) unsigned long beta_leaf(unsigned long n)
{
	unsigned long acc = sink;

	for (unsigned long i = 0; i < n; i++)
		acc = acc * 6364136223846793005UL + i;
	return acc;
}

__attribute__((noinline)) unsigned long alpha_leaf(unsigned long n)
{
	unsigned long acc = sink;

	for (unsigned long i = 0; i < n; i++)
		acc = acc * 2862933555777941757UL + i;
	return acc;
}

/* Work after the call keeps it from being a tail call. */
__attribute__((noinline)) void beta(void)
{
	sink += beta_leaf(700000) + 1;
}

__attribute__((noinline)) void alpha(void)
{
	sink += alpha_leaf(300000) + 1;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2;
	struct timespec ts;
	double end;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec + ts.tv_nsec / 1e9 + secs;
	do {
		beta();
		alpha();
		clock_gettime(CLOCK_MONOTONIC, &ts);
	} while (ts.tv_sec + ts.tv_nsec / 1e9 < end);
	return 0;
}
