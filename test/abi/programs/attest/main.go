// Command attest fetches attestation evidence inside the guest through the
// unmodified Go clients attestation tools use: go-sev-guest's client
// (/dev/sev-guest), go-tdx-guest's client (/dev/tdx_guest) and
// go-configfs-tsm's client (/sys/kernel/config/tsm/report, the linuxtsm
// client with the report package). It prints the raw evidence in hex, one
// "name: hex" line each, for test/boot's TestAttest to check on the host.
//
// Usage: attest snp|tdx REPORTDATA-HEX (up to 64 bytes; zero-padded)
//
// It is built CGO_ENABLED=0 and runs the same on Linux (on a real TD or SNP
// guest) and on Aster.
package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"os"

	"github.com/google/go-configfs-tsm/configfs/linuxtsm"
	"github.com/google/go-configfs-tsm/report"
	sevclient "github.com/google/go-sev-guest/client"
	tdxclient "github.com/google/go-tdx-guest/client"
	tdxabi "github.com/google/go-tdx-guest/client/linuxabi"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: attest snp|tdx REPORTDATA-HEX")
		os.Exit(2)
	}
	var rd [64]byte
	b, err := hex.DecodeString(os.Args[2])
	if err != nil || len(b) > len(rd) {
		fmt.Fprintf(os.Stderr, "attest: report data %q: want at most 64 bytes of hex\n", os.Args[2])
		os.Exit(2)
	}
	copy(rd[:], b)
	ok := false
	switch os.Args[1] {
	case "snp":
		ok = snp(rd)
	case "tdx":
		ok = tdx(rd)
	default:
		fmt.Fprintf(os.Stderr, "attest: unknown platform %q\n", os.Args[1])
		os.Exit(2)
	}
	if !ok || !configfs(os.Args[1], rd) {
		os.Exit(1)
	}
	fmt.Println("attest: done")
}

// snp asks /dev/sev-guest for a report, an extended report (the client
// first asks for the certificate size with an empty buffer) and a derived
// key.
func snp(rd [64]byte) bool {
	// The client rate-limits itself to one request per 2 s, a workaround
	// for old Linux throttling; Aster does not throttle.
	_ = flag.CommandLine.Set("self_throttle_duration", "0")
	d, err := sevclient.OpenDevice()
	if err != nil {
		fmt.Printf("attest: %v\n", err)
		return false
	}
	defer d.Close()
	raw, err := sevclient.GetRawReport(d, rd)
	if err != nil {
		fmt.Printf("attest: GetRawReport: %v\n", err)
		return false
	}
	fmt.Printf("snp report: %x\n", raw)
	rep, certs, err := sevclient.GetRawExtendedReport(d, rd)
	if err != nil {
		fmt.Printf("attest: GetRawExtendedReport: %v\n", err)
		return false
	}
	fmt.Printf("snp extended report: %x\n", rep)
	fmt.Printf("snp certificates: %d bytes\n", len(certs))
	key, err := sevclient.GetDerivedKeyAcknowledgingItsLimitations(d, &sevclient.SnpDerivedKeyReq{
		GuestFieldSelect: sevclient.GuestFieldSelect{Measurement: true},
	})
	if err != nil {
		fmt.Printf("attest: derived key: %v\n", err)
		return false
	}
	fmt.Printf("snp derived key: %x\n", key.Data[:])
	return true
}

// tdx asks /dev/tdx_guest for a TDREPORT (TDX_CMD_GET_REPORT0 through the
// client's device) and a quote (the client's device path: GET_REPORT0,
// then the GET_QUOTE request).
func tdx(rd [64]byte) bool {
	d, err := tdxclient.OpenDevice()
	if err != nil {
		fmt.Printf("attest: %v\n", err)
		return false
	}
	defer d.Close()
	req := &tdxabi.TdxReportReq{ReportData: rd}
	if _, err := d.Ioctl(tdxabi.IocTdxGetReport, req); err != nil {
		fmt.Printf("attest: TDX_CMD_GET_REPORT0: %v\n", err)
		return false
	}
	fmt.Printf("tdx report: %x\n", req.TdReport[:])
	quote, err := tdxclient.GetRawQuote(d, rd)
	if err != nil {
		fmt.Printf("attest: GetRawQuote: %v\n", err)
		return false
	}
	fmt.Printf("tdx quote: %x\n", quote)
	return true
}

// configfs asks configfs-tsm for a report with the same report data: on
// SNP the report at VMPL 0 with the certificate table (auxblob), on TDX a
// quote. It prints the provider (in hex, like the
// rest), the outblob and, on SNP, the auxblob.
func configfs(plat string, rd [64]byte) bool {
	c, err := linuxtsm.MakeClient()
	if err != nil {
		fmt.Printf("attest: configfs-tsm: %v\n", err)
		return false
	}
	req := &report.Request{InBlob: rd[:]}
	if plat == "snp" {
		req.GetAuxBlob = true
		req.Privilege = &report.Privilege{Level: 0}
	}
	resp, err := report.Get(c, req)
	if err != nil {
		fmt.Printf("attest: configfs-tsm report: %v\n", err)
		return false
	}
	fmt.Printf("%s configfs provider: %x\n", plat, resp.Provider)
	fmt.Printf("%s configfs outblob: %x\n", plat, resp.OutBlob)
	if plat == "snp" {
		fmt.Printf("%s configfs auxblob: %x\n", plat, resp.AuxBlob)
	}
	return true
}
