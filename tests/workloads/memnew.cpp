// C++ allocations: 1000 x new Widget (256 bytes), kept: memnew
// (It lives a moment before and after: a process gone within milliseconds
// can be gone before dfrecord reads its maps; run-symbols tests that case.)
#include <unistd.h>
#include <vector>

struct Widget {
	char data[256];
};

std::vector<Widget *> kept;

__attribute__((noinline)) void make_widgets()
{
	for (int i = 0; i < 1000; i++)
		kept.push_back(new Widget);
}

int main()
{
	usleep(200000);
	kept.reserve(1000);
	make_widgets();
	usleep(200000);
	return 0;
}
