// A Go program that never asks for a memory profile: its linker turns the
// runtime's heap sampling off (disableMemoryProfiling).
package main

var sink []byte

func main() {
	for i := 0; i < 100; i++ {
		sink = make([]byte, 1<<20)
	}
}
