package reference

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParse: Parse must never panic, and a document it accepts must
// survive a write and a re-read unchanged (astctl measure writes the
// documents astctl verify reads). Seeds in testdata/fuzz: a TDX document
// with events, an SNP one, a TPM one with PCRs, and rejects.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"format":"aster.reference-values/v1","platform":"tdx","tool":{"name":"t","version":"0"},"measurements":{"mrtd":"00"}}`))
	f.Add([]byte(`{"format":"aster.reference-values/v2","platform":"tdx"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Parse(b)
		if err != nil {
			return
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("marshal an accepted document: %v", err)
		}
		d2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-read of %s: %v", out, err)
		}
		if out2, _ := json.Marshal(d2); !bytes.Equal(out, out2) {
			t.Fatalf("round trip changed the document:\n%s\n%s", out, out2)
		}
	})
}
