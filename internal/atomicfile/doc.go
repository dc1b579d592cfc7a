// Package atomicfile owns writing files and directories so that nobody ever
// sees half of one: the content goes to a temporary file (or directory)
// beside the target, with the final mode from the start, and becomes the
// target in one rename.
package atomicfile
