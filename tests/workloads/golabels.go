// SPDX-License-Identifier: MIT
// Goroutines in pprof.Do with labels, each label set doing its own function:
// route=/a (and tenant=acme) spins in spinA, route=/b in spinB.
package main

import (
	"context"
	"os"
	"runtime/pprof"
	"strconv"
	"time"
)

var sink uint64

//go:noinline
func spinA(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for i := 0; i < 10000; i++ {
			sink += uint64(i)
		}
	}
}

//go:noinline
func spinB(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for i := 0; i < 10000; i++ {
			sink ^= uint64(i)
		}
	}
}

func main() {
	secs, _ := strconv.ParseFloat(os.Args[1], 64)
	end := time.Now().Add(time.Duration(secs * float64(time.Second)))
	for time.Now().Before(end) {
		pprof.Do(context.Background(), pprof.Labels("route", "/a", "tenant", "acme"), func(ctx context.Context) {
			spinA(30 * time.Millisecond)
		})
		pprof.Do(context.Background(), pprof.Labels("route", "/b"), func(ctx context.Context) {
			spinB(30 * time.Millisecond)
		})
	}
}
