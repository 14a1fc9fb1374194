/* Calls into libcfilib.so: cfimain SECONDS. */
#include <stdlib.h>

void lib_spin(double secs);

int main(int argc, char **argv)
{
	lib_spin(argc > 1 ? atof(argv[1]) : 2);
	return 0;
}
