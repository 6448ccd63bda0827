// Command evlog prints the firmware's TPM event log as Linux exposes it
// (/sys/kernel/security/tpm0/binary_bios_measurements) in base64 between
// markers, so a host test can read it off the serial console. It runs on
// Aster and on Linux alike.
package main

import (
	"encoding/base64"
	"fmt"
	"os"
)

const path = "/sys/kernel/security/tpm0/binary_bios_measurements"

func main() {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Printf("evlog: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("evlog: %d bytes\nevlog: BEGIN\n", len(b))
	s := base64.StdEncoding.EncodeToString(b)
	for len(s) > 0 {
		n := min(len(s), 76)
		fmt.Println(s[:n])
		s = s[n:]
	}
	fmt.Println("evlog: END")
}
