package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// Input and output helpers shared by the subcommands.

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(v)
}

// readInput reads a file named by flag; errors are bad input.
func readInput(flag, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, badInput(fmt.Errorf("--%s: %w", flag, err))
	}
	return b, nil
}

// decodeHex decodes a hex flag value.
func decodeHex(flag, s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimPrefix(strings.ToLower(s), "0x"))
	if err != nil {
		return nil, badInput(fmt.Errorf("--%s: %w", flag, err))
	}
	return b, nil
}
