// Package loaderdiff checks services/loader against the host kernel: a
// static musl program run under `setarch -R` (no randomization) dumps its
// initial stack and its own /proc/self/maps lines, and the loader, given
// the same file, arguments, environment and the host's auxv values, must
// produce the same stack pointer, the same stack bytes and the same
// segment mappings.
package loaderdiff
