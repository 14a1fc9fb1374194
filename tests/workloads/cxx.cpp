// C++ names: a namespace, a class template, a function inlined into its
// caller, and one inlined into that (each its own frame with DWARF): cxx SECONDS
#include <chrono>
#include <cstdlib>

volatile unsigned long sink;

namespace shapes {
template <typename T> struct Accumulator {
	static inline __attribute__((always_inline)) T step(T a, T b)
	{
		return a * 6364136223846793005ULL + b;
	}

	static inline __attribute__((always_inline)) T mix(T a, T b)
	{
		for (int k = 0; k < 4; k++)
			a = step(a, b);
		return a;
	}

	__attribute__((noinline)) T run(T n)
	{
		T acc = sink;

		for (T i = 0; i < n; i++)
			acc = mix(acc, i);
		return acc;
	}
};
} // namespace shapes

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2;
	auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(secs);
	shapes::Accumulator<unsigned long> a;

	while (std::chrono::steady_clock::now() < end)
		sink += a.run(1000000);
	return 0;
}
