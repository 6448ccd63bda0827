package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/aster-cvm/aster/eventlog"
	"github.com/aster-cvm/aster/reference"
)

func init() {
	var (
		kind     string
		diffPath string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "eventlog FILE [--diff EXPECTED.json]",
		Short: "Replay a CCEL or TCG event log; diff it against an expected log",
		Long: `Parse a measured-boot event log, print every event with its digest, and
replay it to the registers it extends: RTMR0-3 for a TDX CC event log
(CCEL, e.g. /sys/firmware/acpi/tables/data/CCEL in the guest), PCRs of
every bank for a TPM event log (e.g.
/sys/kernel/security/tpm0/binary_bios_measurements). The kind is detected
(a SHA-384-only log with MR indices 0-4 is a CCEL); --kind overrides it.

--diff EXPECTED.json compares the log with an expected log, a reference-
values document: the output of 'astctl measure tdx --json', or of this
command's --json on a known-good log. Events are aligned register by
register, so the output names the events that differ (changed digest,
missing, unexpected) and the registers whose values differ: the tool for
finding which input made a measurement not match.

--json writes the log as a reference-values document (its events and
replayed registers) or, with --diff, the diff.

Exit codes: 0 success (with --diff: the logs match), 1 the logs differ,
2 unusable input (unreadable or malformed log or document).`,
		Example: `  # In a TD: replay the firmware's event log
  astctl measure eventlog /sys/firmware/acpi/tables/data/CCEL

  # Why does RTMR1 not match? Compare with the expected direct-boot log
  astctl measure tdx --ovmf OVMF.fd --memory 4G ... --json > expected.json
  astctl measure eventlog CCEL --diff expected.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMeasureEventlog(cmd, args[0], eventlog.Kind(kind), diffPath, asJSON)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&kind, "kind", "", "log kind: ccel or tcg (default: detect)")
	fl.StringVar(&diffPath, "diff", "", "reference-values document holding the expected events")
	fl.BoolVar(&asJSON, "json", false, "write JSON: the log as a reference-values document, or the diff")
	measureCmd.AddCommand(cmd)
}

func runMeasureEventlog(cmd *cobra.Command, path string, kind eventlog.Kind, diffPath string, asJSON bool) error {
	if kind == "auto" {
		kind = ""
	}
	raw, err := readInput("eventlog", path)
	if err != nil {
		return err
	}
	l, err := eventlog.Parse(raw, kind)
	if err != nil {
		return badInput(fmt.Errorf("%s: %w", path, err))
	}
	out := cmd.OutOrStdout()
	if diffPath != "" {
		want, err := reference.Read(diffPath)
		if err != nil {
			return badInput(fmt.Errorf("--diff: %w", err))
		}
		d, err := eventlog.Compare(l, want)
		if err != nil {
			return badInput(err)
		}
		if asJSON {
			err = writeJSON(out, diffJSON(d))
		} else {
			printDiff(out, d)
		}
		if err == nil && d.Differs() {
			return exitWith(exitFailed)
		}
		return err
	}
	banks, replayErr := l.Replay()
	if asJSON {
		doc, _ := l.Reference(reference.Tool{Name: "astctl measure eventlog", Version: toolVersion()})
		doc.Inputs["event_log"] = fileRecord(path, raw)
		if err := writeJSON(out, doc); err != nil {
			return err
		}
	} else {
		printEventLog(out, l, banks)
	}
	if replayErr != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "astctl: warning:", replayErr)
	}
	return nil
}

func regName(kind string, r int) string {
	if kind == "rtmr" {
		return fmt.Sprintf("RTMR%d", r)
	}
	return fmt.Sprintf("PCR%d", r)
}

func printEventLog(w io.Writer, l *eventlog.Log, banks map[string]eventlog.Bank) {
	alg := l.PrimaryAlg()
	kind := l.Kind.RegisterKind()
	fmt.Fprintf(w, "%s event log, %d events, digests %v\n\n", l.Kind, len(l.Events), l.Algs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "#\tREGISTER\tTYPE\tDIGEST (%s)\tDATA\n", alg)
	for i := range l.Events {
		e := &l.Events[i]
		reg := "-"
		if e.Register >= 0 {
			reg = regName(kind, e.Register)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%x\t%s\n", e.Seq, reg, e.TypeName(), e.Digests[alg], e.Summary())
	}
	tw.Flush()
	for _, a := range l.Algs {
		b, ok := banks[a]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "\nreplayed (%s):\n", a)
		for _, r := range b.Registers() {
			fmt.Fprintf(w, "  %-7s %x\n", regName(kind, r), b[r])
		}
	}
}

var changeMarks = map[eventlog.Change]string{eventlog.Same: " ", eventlog.Changed: "~", eventlog.Missing: "-", eventlog.Extra: "+"}

func printDiff(w io.Writer, d *eventlog.Diff) {
	fmt.Fprintf(w, "comparing %s digests; \"~\" changed, \"-\" expected but missing, \"+\" not expected\n\n", d.Alg)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range d.Lines {
		reg := regName(d.RegisterKind, l.Register)
		switch l.Change {
		case eventlog.Same:
			fmt.Fprintf(tw, " \t%s\t%s\t%s\t%s\n", reg, l.Want.Type, l.Want.Digest, l.Want.Description)
		case eventlog.Missing:
			fmt.Fprintf(tw, "-\t%s\t%s\t%s\t%s\n", reg, l.Want.Type, l.Want.Digest, l.Want.Description)
		case eventlog.Extra:
			fmt.Fprintf(tw, "+\t%s\t%s\t%x\tevent %d: %s\n", reg, l.Got.TypeName(), l.GotDigest, l.Got.Seq, l.Got.Summary())
		case eventlog.Changed:
			fmt.Fprintf(tw, "~\t%s\t%s\t%x\tevent %d: %s\n", reg, l.Got.TypeName(), l.GotDigest, l.Got.Seq, l.Got.Summary())
			fmt.Fprintf(tw, " \t\t  expected\t%s\t%s\n", l.Want.Digest, l.Want.Description)
		}
	}
	tw.Flush()
	if len(d.Registers) > 0 {
		fmt.Fprintln(w)
	}
	for _, r := range d.Registers {
		mark := "match"
		if r.Got != r.Want {
			mark = "DIFFERS"
		}
		fmt.Fprintf(w, "%-7s %s\n  replayed %s\n  expected %s\n", regName(d.RegisterKind, r.Register), mark, r.Got, r.Want)
	}
	if d.Differs() {
		fmt.Fprintln(w, "\nthe event log differs from the expected log")
	} else {
		fmt.Fprintln(w, "\nthe event log matches the expected log")
	}
}

// diffJSON is the machine-readable form of a diff.
func diffJSON(d *eventlog.Diff) map[string]any {
	names := map[eventlog.Change]string{eventlog.Same: "same", eventlog.Changed: "changed", eventlog.Missing: "missing", eventlog.Extra: "extra"}
	var lines []map[string]any
	for _, l := range d.Lines {
		m := map[string]any{"change": names[l.Change], "register": l.Register, "register_kind": d.RegisterKind}
		if l.Want != nil {
			m["expected"] = l.Want
		}
		if l.Got != nil {
			m["event"] = map[string]any{"seq": l.Got.Seq, "type": l.Got.TypeName(), "digest": hex.EncodeToString(l.GotDigest), "data": l.Got.Summary()}
		}
		lines = append(lines, m)
	}
	return map[string]any{"differs": d.Differs(), "alg": d.Alg, "events": lines, "registers": d.Registers}
}
