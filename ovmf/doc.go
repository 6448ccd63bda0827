// Package ovmf parses the metadata that OVMF (edk2's virtual-machine
// firmware) embeds for confidential-VM launches, as a hypervisor reads it
// before the first guest instruction runs.
//
// Everything starts from the GUIDed table at the end of the image. The last
// 32 bytes of an OVMF image hold the reset vector; just before them is the
// table footer: a u16 size and the GUID 96b582de-1fb2-45f7-baea-a366c55a082d.
// The size covers the whole table, whose entries are walked backwards, each
// laid out as data, u16 size (of data + header), GUID (edk2
// OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm). The entries read here are
//
//   - SEV metadata (dc886566-…): the offset from the end of the image of an
//     "ASEV" header followed by {gpa, size, type} descriptors of the pages
//     QEMU must pre-validate for SEV-SNP (OvmfPkg/ResetVector/X64/
//     OvmfSevMetadata.asm);
//   - the SEV-ES reset block (00f771de-…): the AP reset EIP;
//   - the SEV hashes-table location (7255371f-…): the GPA and size of the
//     area where QEMU writes the kernel/initrd/cmdline hashes;
//   - the TDX metadata offset (e47a6535-…): the offset from the end of the
//     image of the "TDVF" descriptor (TDX Virtual Firmware Design Guide §11).
//
// An Image never panics on malformed input: every length and offset is
// bounds-checked, and the fuzz targets in this package hold it to that.
// Images are addressed as QEMU loads them with -bios: ending at 4 GiB.
package ovmf
