// Two allocation sites with a known byte split (100 MiB kept, 200 MiB
// dropped), then two collections and the program's own heap profile:
// goheap PROFILE_OUT [time]  (time: print the allocating part's seconds)
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

var kept [][]byte
var sink []byte

//go:noinline
func keepSite(n int) {
	for i := 0; i < n; i++ {
		kept = append(kept, make([]byte, 64<<10))
	}
}

//go:noinline
func dropSite(n int) {
	for i := 0; i < n; i++ {
		sink = make([]byte, 32<<10)
	}
}

func main() {
	start := time.Now()
	keepSite(1600)
	dropSite(6400)
	if len(os.Args) > 2 {
		fmt.Printf("%.4f\n", time.Since(start).Seconds())
	}
	runtime.GC()
	runtime.GC()
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	pprof.WriteHeapProfile(f)
	f.Close()
	runtime.KeepAlive(kept)
}
