//go:build mage

package main

import (
	"fmt"
	"time"
)

// Wait sleeps for TIMES rounds of -every (default 1ms).
func Wait(times int,
	// how long one round takes
	every *time.Duration,
) {
	d := time.Millisecond
	if every != nil {
		d = *every
	}
	time.Sleep(time.Duration(times) * d)
	greet("waited")
}
