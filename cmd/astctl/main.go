// Command astctl is Aster's host toolkit: it builds measured images of the
// guest, runs them in QEMU, precomputes launch measurements and verifies
// attestation evidence.
//
// Exit codes are shared by every subcommand and documented in --help:
//
//	0  success (for verify: evidence valid and policy satisfied)
//	1  the check failed (evidence invalid, policy violated, guest failed)
//	2  unusable input: unreadable or malformed files, bad flags
//
// astctl run is the exception: it exits with the guest's own status.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes shared by all subcommands.
const (
	exitOK       = 0
	exitFailed   = 1
	exitBadInput = 2
)

// exitError carries the process exit status a subcommand wants.
// A nil err with a non-zero code exits quietly (the command already
// printed its report).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// failed wraps err as a check failure (exit 1).
func failed(err error) error { return &exitError{code: exitFailed, err: err} }

// badInput wraps err as unusable input (exit 2).
func badInput(err error) error { return &exitError{code: exitBadInput, err: err} }

// exitWith returns an error that makes astctl exit with code without
// printing anything more.
func exitWith(code int) error { return &exitError{code: code} }

var rootCmd = &cobra.Command{
	Use:   "astctl",
	Short: "Build, run, measure and verify Aster confidential guests",
	Long: `astctl is the host toolkit of Aster, a Go framekernel for confidential VMs.

It builds measured guest images, boots them in QEMU, precomputes TDX and
SEV-SNP launch measurements and verifies attestation evidence offline.

Exit codes:
  0  success
  1  check failed (evidence invalid, policy violated, guest reported failure)
  2  unusable input (unreadable or malformed input, bad flags)
  astctl run exits with the guest's own exit status.`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	os.Exit(execute(os.Args[1:]))
}

// execute runs astctl with args and returns the process exit status.
func execute(args []string) int {
	rootCmd.SetArgs(args)
	err := rootCmd.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(rootCmd.ErrOrStderr(), "astctl:", ee.err)
		}
		return ee.code
	}
	// Errors from cobra itself (unknown flag, wrong argument count) are
	// bad input.
	fmt.Fprintln(rootCmd.ErrOrStderr(), "astctl:", err)
	return exitBadInput
}
