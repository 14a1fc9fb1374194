// C++ allocations: 1000 x new Widget (256 bytes), kept: memnew
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
	kept.reserve(1000);
	make_widgets();
	return 0;
}
