/* run-shortlived: a process that lives a few milliseconds in libshort.so: shortmain MS */
#include <stdlib.h>

unsigned long short_hot(double ms);

int main(int argc, char **argv)
{
	return short_hot(argc > 1 ? atof(argv[1]) : 10) == 1;
}
