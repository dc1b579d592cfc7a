// Package progress draws the progress of long work for people: a bar that
// redraws in place on a terminal, and a line every 10% elsewhere (CI logs),
// with the time each step took.
package progress
