package main

import (
	"bytes"
	"io"
)

// serialOut is the tty's output sink on the frame's console. The frame
// already turns every "\n" into "\r\n" on the UART, so the "\r" the
// tty's ONLCR puts before a newline is dropped here rather than sent
// twice. (With OPOST off a bare "\n" still gets its "\r" from the frame.)
type serialOut struct{ w io.Writer }

// Write implements io.Writer.
func (s serialOut) Write(b []byte) (int, error) {
	if _, err := s.w.Write(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))); err != nil {
		return 0, err
	}
	return len(b), nil
}
