// Package atomicfile owns writing files so that nobody ever sees half of
// one: the content goes to a temporary file beside the target, with the
// final mode from the start, and replaces the target in one rename.
package atomicfile
