// Package loader loads a static x86-64 ELF program into a fresh memory
// map, as execve(2) does (load_elf_binary and create_elf_tables in
// fs/binfmt_elf.c, setup_arg_pages in fs/exec.c), and returns where the
// program starts: entry point, stack pointer and initial break.
//
// It handles ET_EXEC and static-PIE (ET_DYN without PT_INTERP) binaries:
// PT_LOAD segments become private file mappings plus anonymous memory for
// the bss (the partial page after the file bytes is zeroed), PT_TLS is
// reported to the caller, PT_GNU_STACK decides whether the stack is
// executable, and a program with PT_INTERP is refused with ENOEXEC until
// dynamic linking exists. The initial stack is laid out byte for byte as
// Linux lays it out without randomization (`setarch -R`): strings at the
// top, AT_PLATFORM and AT_RANDOM below them, then argc, argv, envp and the
// auxiliary vector, 16-byte aligned. test/abi/loaderdiff checks that
// against the host kernel.
//
// Everything about the file is validated before anything is mapped; a
// malformed file is a *FormatError, which is linux.ENOEXEC for errors.Is
// and carries the reason for logs. The parser is fuzzed
// (testdata/fuzz/FuzzLoad).
//
// A vDSO is mapped when Config.VDSO gives an image; building that image is
// a later step.
//
// Differences from Linux: the load bias of a static PIE is ELF_ET_DYN_BASE
// (2/3 of TASK_SIZE), which is where Linux put every ET_DYN program before
// 5.x; current Linux puts an interpreter-less ET_DYN in the mmap area.
// Segment sizes beyond TASK_SIZE, which Linux rejects with EINVAL, and
// segments that end past the end of the file, which Linux maps and lets
// fault with SIGBUS, are ENOEXEC here; an entry point outside every
// segment is refused too. The zeroing of a segment's last file page is done
// even when the segment is read-only (Linux tries and ignores the failure).
package loader
