// Package kimage builds Aster's kernel image on the host: it runs the Go
// toolchain on the kernel package, turns the resulting ELF into something
// QEMU's -kernel (and other PVH loaders) can boot, and describes what it
// built in a manifest.
//
// The kernel is an ordinary GOOS=linux GOARCH=amd64 static Go binary linked
// into the top 2 GiB of the address space (see BOOT-FACTS.md). The Go linker
// can emit neither the Xen PVH entry note nor physical load addresses that
// differ from the virtual ones, so [Patch] adds both after linking:
//
//   - every PT_LOAD gets p_paddr = p_vaddr - [KernBase];
//   - the Go build-id note is rewritten in place into a Xen
//     XEN_ELFNOTE_PHYS32_ENTRY note whose descriptor is the physical
//     address of frame/boot.pvhEntry;
//   - the kernel's frame/boot.imageInfo words, when present, receive the
//     image's physical extent and entry so the kernel knows where it lives
//     without parsing its own ELF.
//
// [Build] wraps `go build` with the flags the kernel needs, applies the patch
// and writes kernel.elf and manifest.json ([Manifest]) to an output
// directory; [Inspect] reads the result back.
package kimage
