package main

import (
	"bytes"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// resetFlags restores every flag of cmd and of its subcommands to its
// default, since cobra keeps flag values between Execute calls.
// Repeatable flags need Replace: Set would store their default's text,
// "[]", as a value. Init forgets where the last "--" was.
func resetFlags(cmd *cobra.Command) {
	cmd.Flags().Init(cmd.Name(), pflag.ContinueOnError)
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			sv.Replace(nil)
		} else {
			f.Value.Set(f.DefValue)
		}
		f.Changed = false
	})
	for _, c := range cmd.Commands() {
		resetFlags(c)
	}
}

// runAstctl runs astctl with args, every flag at its default first, and
// returns its standard output and exit status.
func runAstctl(t *testing.T, args ...string) (string, int) {
	t.Helper()
	resetFlags(rootCmd)
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	defer rootCmd.SetOut(nil)
	code := execute(args)
	return out.String(), code
}

// runVerifyStderr runs astctl verify offline like runVerifyCLI and
// returns the exit status and what astctl wrote to standard error.
func runVerifyStderr(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var errOut bytes.Buffer
	rootCmd.SetErr(&errOut)
	defer rootCmd.SetErr(nil)
	code, _ := runVerifyCLI(t, args...)
	return code, errOut.String()
}

// TestResetFlags: a repeatable flag of one run is gone in the next,
// not turned into the value "[]".
func TestResetFlags(t *testing.T) {
	runAstctl(t, "run", t.TempDir(), "--dry-run", "--append", "a=1")
	if len(runFlags.append) != 1 {
		t.Fatalf("--append %q", runFlags.append)
	}
	resetFlags(rootCmd)
	if len(runFlags.append) != 0 || len(verifyFlags.mrtd) != 0 {
		t.Errorf("after reset: --append %q, --mrtd %q", runFlags.append, verifyFlags.mrtd)
	}
}
