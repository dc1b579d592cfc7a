// Package magerun is what `go run mage.go` runs: Mage's command line made
// safe for this repository.
//
// Plain mage.Main writes its generated main file into magefiles/ and builds
// the targets on every call, so two invocations in one checkout (a simulator
// in one terminal, a target in another) race on that file; it runs the
// first target before finding that a later word is not a target; and its
// listings say "mage" where the README teaches "go run mage.go". magerun
// parses the targets from magefiles/ (cheap: no compile), answers -l and -h
// from that parse, checks the whole command line before anything runs, and
// builds the targets under a lock held only while compiling, then runs the
// binary it built. Only the lock's file lives outside the checkout, next to
// the built binary in Mage's cache directory.
package magerun
