// A hot Go function: hotgo SECONDS
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

//go:noinline
func hotGoFunction(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i*31 ^ (s >> 3)
	}
	return s
}

func main() {
	secs := 2.0
	if len(os.Args) > 1 {
		secs, _ = strconv.ParseFloat(os.Args[1], 64)
	}
	end := time.Now().Add(time.Duration(secs * float64(time.Second)))
	t := 0
	for time.Now().Before(end) {
		t += hotGoFunction(1000000)
	}
	fmt.Println(t != 1)
}
