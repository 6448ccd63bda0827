package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/google/go-eventlog/tcg"
	"github.com/spf13/cobra"

	"github.com/aster-cvm/aster/measure/tdx"
	"github.com/aster-cvm/aster/ovmf"
	"github.com/aster-cvm/aster/reference"
)

// tdxFlags are the flags of 'astctl measure tdx'.
type tdxFlags struct {
	ovmf         string
	order        string
	memory       string
	vcpus        int
	machine      string
	acpiTables   string
	acpiRSDP     string
	tableLoader  string
	acpiDataSize string
	kernel       string
	initrd       string
	appendLine   string
	events       bool
	json         bool
}

func init() {
	var f tdxFlags
	cmd := &cobra.Command{
		Use:   "tdx --ovmf FIRMWARE [--memory SIZE --acpi-tables F --acpi-rsdp F --table-loader F] [--kernel K [--initrd I] [--append CMDLINE]]",
		Short: "Compute TDX MRTD and RTMR0-2 for OVMF direct boot",
		Long: `Compute the measurement registers of a TDX guest that QEMU boots from OVMF
(TDVF), optionally with a kernel loaded directly (-kernel/-initrd/-append).

MRTD comes from the firmware alone: the TDVF metadata names the pages the
VMM adds (TDH.MEM.PAGE.ADD) and those whose contents it measures
(TDH.MR.EXTEND). Upstream QEMU >= 9 with KVM adds and measures page by page
(--page-add-order single, the default); the QEMU 8.x TDX trees, such as
Canonical's, add all pages of a section first (two-pass). The order changes
MRTD: it is the first thing to try when a precomputed MRTD does not match.

RTMR0 needs the guest memory size (QEMU describes RAM in the TD HOB) and
the three ACPI blobs QEMU hands the firmware, captured from the target QEMU
(same version, machine options, vCPUs and devices): --acpi-tables
(fw_cfg etc/acpi/tables), --acpi-rsdp (etc/acpi/rsdp) and --table-loader
(etc/table-loader). RTMR1 needs --kernel: the Authenticode hash of the
kernel after QEMU patches its setup header, which with an --initrd depends
on --memory. RTMR2 is the command line (with the " initrd=initrd" OVMF
appends when there is an initrd) and the initrd. A register whose inputs
are missing is not printed; astctl says which input it needs instead.

The event layout modelled is that of OVMF before edk2-stable202505 with
Secure Boot off and the image's default variable store. --events prints the
expected event log; it replays to the printed RTMRs, and 'astctl measure
eventlog --diff' compares it with the guest's real CCEL.

These values follow the TDX module specification and the layouts observed
in real TD event logs; they have not yet been checked against a TD on
hardware (see docs/measure.md).

Exit codes: 0 success, 2 unusable input (not OVMF, no TDX metadata, not a
bzImage, bad flags).`,
		Example: `  # MRTD of Debian's OVMF for upstream QEMU/KVM and for QEMU 8.x TDX trees
  astctl measure tdx --ovmf /usr/share/ovmf/OVMF.fd
  astctl measure tdx --ovmf /usr/share/ovmf/OVMF.fd --page-add-order two-pass

  # All registers of a direct boot, with the expected event log
  astctl measure tdx --ovmf OVMF.fd --memory 4G --vcpus 4 \
      --acpi-tables tables.bin --acpi-rsdp rsdp.bin --table-loader loader.bin \
      --kernel vmlinuz --initrd initrd.img --append "console=ttyS0" --events

  # Reference values for astctl verify
  astctl measure tdx --ovmf OVMF.fd --memory 4G ... --json > ref.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runMeasureTDX(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.ovmf, "ovmf", "", "OVMF (TDVF) firmware image (required)")
	fl.StringVar(&f.order, "page-add-order", "single", "single (QEMU >= 9, KVM) or two-pass (QEMU 8.x TDX trees)")
	fl.StringVar(&f.memory, "memory", "", "guest RAM in QEMU -m syntax (4G, 2048M; a bare number is MiB)")
	fl.IntVar(&f.vcpus, "vcpus", 0, "guest vCPUs (recorded; they shape the ACPI tables you capture)")
	fl.StringVar(&f.machine, "machine", "", "QEMU -machine options (recorded; they shape the ACPI tables)")
	fl.StringVar(&f.acpiTables, "acpi-tables", "", "QEMU fw_cfg etc/acpi/tables of the target VM")
	fl.StringVar(&f.acpiRSDP, "acpi-rsdp", "", "QEMU fw_cfg etc/acpi/rsdp of the target VM")
	fl.StringVar(&f.tableLoader, "table-loader", "", "QEMU fw_cfg etc/table-loader of the target VM")
	fl.StringVar(&f.acpiDataSize, "acpi-data-size", fmt.Sprintf("%#x", tdx.QEMUDefaultACPIDataSize), "QEMU's ACPI reservation below low-memory top (initrd placement)")
	fl.StringVar(&f.kernel, "kernel", "", "kernel bzImage for direct boot (QEMU -kernel)")
	fl.StringVar(&f.initrd, "initrd", "", "initrd (QEMU -initrd)")
	fl.StringVar(&f.appendLine, "append", "", "kernel command line (QEMU -append)")
	fl.BoolVar(&f.events, "events", false, "print the expected event log")
	fl.BoolVar(&f.json, "json", false, "write the reference-values document")
	measureCmd.AddCommand(cmd)
}

// parseQEMUSize parses QEMU's -m syntax: a number with an optional
// binary suffix K, M, G or T; without a suffix, MiB.
func parseQEMUSize(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	mult := uint64(1 << 20)
	num := strings.TrimSpace(s)
	if n := len(num); n > 0 {
		switch strings.ToUpper(num[n-1:]) {
		case "K":
			mult, num = 1<<10, num[:n-1]
		case "M":
			mult, num = 1<<20, num[:n-1]
		case "G":
			mult, num = 1<<30, num[:n-1]
		case "T":
			mult, num = 1<<40, num[:n-1]
		case "B":
			mult, num = 1, num[:n-1]
		}
	}
	v, err := strconv.ParseUint(num, 10, 64)
	if err != nil || v == 0 || v > (1<<50)/mult {
		return 0, fmt.Errorf("--memory %q: want a size such as 4G, 2048M or 2048", s)
	}
	return v * mult, nil
}

// tdxResult is what measure tdx computed, and what it could not.
type tdxResult struct {
	mrtd    []byte
	events  []tdx.Event
	rtmr    [4][]byte
	have    [3]bool
	missing map[string]string
}

func runMeasureTDX(cmd *cobra.Command, f *tdxFlags) error {
	if f.kernel == "" && (f.initrd != "" || cmd.Flags().Changed("append")) {
		return badInput(errors.New("--initrd and --append need --kernel"))
	}
	doc, res, err := measureTDX(f)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if f.json {
		return writeTDXReference(out, doc, res)
	}
	if f.events {
		printTDXEvents(out, res.events)
	}
	printTDXRegisters(out, cmd.ErrOrStderr(), res)
	return nil
}

// printTDXRegisters prints the registers computed and, on errOut, why the
// others were not.
func printTDXRegisters(out, errOut io.Writer, res *tdxResult) {
	fmt.Fprintf(out, "mrtd  %x\n", res.mrtd)
	for i, ok := range res.have {
		if ok {
			fmt.Fprintf(out, "rtmr%d %x\n", i, res.rtmr[i])
		}
	}
	for _, r := range []string{"rtmr0", "rtmr1", "rtmr2"} {
		if why, ok := res.missing[r]; ok {
			fmt.Fprintf(errOut, "astctl: %s not computed: %s\n", r, why)
		}
	}
}

// measureTDX computes what f describes: the reference document's inputs
// and the registers and events. Errors carry astctl's exit codes.
func measureTDX(f *tdxFlags) (*reference.Document, *tdxResult, error) {
	order, err := tdx.ParsePageAddOrder(f.order)
	if err != nil {
		return nil, nil, badInput(err)
	}
	mem, err := parseQEMUSize(f.memory)
	if err != nil {
		return nil, nil, badInput(err)
	}
	acpiDataSize, err := strconv.ParseUint(f.acpiDataSize, 0, 64)
	if err != nil {
		return nil, nil, badInput(fmt.Errorf("--acpi-data-size: %w", err))
	}
	im, err := readFirmware(f.ovmf)
	if err != nil {
		return nil, nil, err
	}
	doc := newReference("tdx")
	in := doc.Inputs
	in["ovmf"] = fileRecord(f.ovmf, im.Data())
	in["page_add_order"] = order.String()
	in["event_layout"] = "OVMF direct boot, edk2 before stable202505, Secure Boot off"
	if mem != 0 {
		in["memory"] = mem
	}
	if f.vcpus != 0 {
		in["vcpus"] = f.vcpus
	}
	if f.machine != "" {
		in["machine"] = f.machine
	}

	var res tdxResult
	res.missing = map[string]string{}
	if res.mrtd, err = tdx.MRTD(im, order); err != nil {
		return nil, nil, badInput(fmt.Errorf("%s: %w", f.ovmf, err))
	}
	in["firmware"] = tdvfRecord(im)

	acpi, err := readACPI(f, in)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case acpi == nil:
		res.missing["rtmr0"] = "needs the ACPI blobs of the target QEMU: --acpi-tables, --acpi-rsdp and --table-loader"
	case mem == 0:
		res.missing["rtmr0"] = "needs --memory: QEMU describes guest RAM in the TD HOB"
	default:
		ev, err := tdx.RTMR0Events(im, mem, acpi)
		if err != nil {
			return nil, nil, badInput(err)
		}
		res.events, res.have[0] = append(res.events, ev...), true
	}

	if f.kernel == "" {
		res.missing["rtmr1"] = "needs --kernel (direct boot)"
		res.missing["rtmr2"] = "needs --kernel (direct boot)"
	} else {
		k, err := readKernel(f, mem, acpiDataSize, in)
		if err != nil {
			return nil, nil, err
		}
		if k.HasInitrd && mem == 0 {
			res.missing["rtmr1"] = "needs --memory: with an initrd, QEMU writes a memory-dependent initrd address into the kernel"
		} else {
			ev, err := tdx.RTMR1Events(k)
			if err != nil {
				return nil, nil, badInput(fmt.Errorf("%s: %w", f.kernel, err))
			}
			res.events, res.have[1] = append(res.events, ev...), true
		}
		res.events, res.have[2] = append(res.events, tdx.RTMR2Events(k)...), true
	}
	res.rtmr = tdx.Replay(res.events)

	return doc, &res, nil
}

func readACPI(f *tdxFlags, in map[string]any) (*tdx.ACPIBlobs, error) {
	given := 0
	for _, p := range []string{f.acpiTables, f.acpiRSDP, f.tableLoader} {
		if p != "" {
			given++
		}
	}
	if given == 0 {
		return nil, nil
	}
	if given != 3 {
		return nil, badInput(errors.New("--acpi-tables, --acpi-rsdp and --table-loader go together"))
	}
	var a tdx.ACPIBlobs
	for _, x := range []struct {
		flag, path, key string
		dst             *[]byte
	}{
		{"acpi-tables", f.acpiTables, "acpi_tables", &a.Tables},
		{"acpi-rsdp", f.acpiRSDP, "acpi_rsdp", &a.RSDP},
		{"table-loader", f.tableLoader, "table_loader", &a.TableLoader},
	} {
		b, err := readInput(x.flag, x.path)
		if err != nil {
			return nil, err
		}
		*x.dst = b
		in[x.key] = fileRecord(x.path, b)
	}
	return &a, nil
}

func readKernel(f *tdxFlags, mem, acpiDataSize uint64, in map[string]any) (*tdx.Kernel, error) {
	img, err := readInput("kernel", f.kernel)
	if err != nil {
		return nil, err
	}
	k := &tdx.Kernel{Image: img, Cmdline: f.appendLine, MemSize: mem, ACPIDataSize: acpiDataSize}
	in["kernel"] = fileRecord(f.kernel, img)
	if f.initrd != "" {
		if k.Initrd, err = readInput("initrd", f.initrd); err != nil {
			return nil, err
		}
		k.HasInitrd = true
		in["initrd"] = fileRecord(f.initrd, k.Initrd)
	}
	in["append"] = f.appendLine
	in["load_options"] = k.LoadOptions()
	in["acpi_data_size"] = acpiDataSize
	return k, nil
}

// tdvfRecord describes the TDVF metadata that shaped MRTD.
func tdvfRecord(im *ovmf.Image) map[string]any {
	secs, _ := im.TDVFMetadata()
	list := make([]map[string]any, 0, len(secs))
	for _, s := range secs {
		list = append(list, map[string]any{
			"type": s.Type.String(), "memory_address": fmt.Sprintf("%#x", s.MemoryAddress),
			"memory_size": fmt.Sprintf("%#x", s.MemoryDataSize), "data_offset": fmt.Sprintf("%#x", s.DataOffset),
			"raw_size": fmt.Sprintf("%#x", s.RawDataSize), "attributes": fmt.Sprintf("%#x", s.Attributes),
		})
	}
	return map[string]any{"tdvf_sections": list}
}

func referenceEvents(events []tdx.Event) []reference.Event {
	out := make([]reference.Event, len(events))
	for i, e := range events {
		out[i] = reference.Event{Register: e.RTMR, RegisterKind: "rtmr", Type: tcg.EventType(e.Type).TCGString(),
			Digest: hex.EncodeToString(e.Digest), Description: e.Description}
	}
	return out
}

func writeTDXReference(w io.Writer, doc *reference.Document, res *tdxResult) error {
	m := &doc.Measurements
	m.MRTD = hex.EncodeToString(res.mrtd)
	for i, dst := range []*string{&m.RTMR0, &m.RTMR1, &m.RTMR2} {
		if res.have[i] {
			*dst = hex.EncodeToString(res.rtmr[i])
		}
	}
	doc.Events = referenceEvents(res.events)
	if len(res.missing) > 0 {
		doc.Inputs["not_computed"] = res.missing
	}
	return writeJSON(w, doc)
}

func printTDXEvents(w io.Writer, events []tdx.Event) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RTMR\tTYPE\tDIGEST (SHA-384)\tMEASURED")
	for _, e := range events {
		fmt.Fprintf(tw, "%d\t%s\t%x\t%s\n", e.RTMR, tcg.EventType(e.Type).TCGString(), e.Digest, e.Description)
	}
	tw.Flush()
	fmt.Fprintln(w)
}
