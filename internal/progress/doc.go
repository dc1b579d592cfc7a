// Package progress draws the progress of long work for people, for the
// command layer (the targets and the demo): a bar that redraws in place on
// a terminal, and a line every 10% elsewhere (CI logs), with the time each
// step took. Libraries never print; they emit typed events, which
// PrintEvents shows here.
package progress
