package reference

import (
	"strings"
	"testing"
)

// TestParseRejects: a document that would silently check nothing, a
// misspelt field first, is an error that names the problem.
func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"misspelt measurements", `{"format":"aster.reference-values/v1","platform":"tdx","measurments":{"mrtd":"abab"}}`, `unknown field "measurments"`},
		{"misspelt register", `{"format":"aster.reference-values/v1","platform":"tdx","measurements":{"mrdt":"abab"}}`, `unknown field "mrdt"`},
		{"misspelt event field", `{"format":"aster.reference-values/v1","platform":"tdx","events":[{"register":1,"register_kind":"rtmr","type":"EV_X","digst":"00"}]}`, `unknown field "digst"`},
		{"empty measurements", `{"format":"aster.reference-values/v1","platform":"tdx","measurements":{}}`, "no measurements and no events"},
		{"no measurements", `{"format":"aster.reference-values/v1","platform":"snp"}`, "no measurements and no events"},
		{"trailing document", `{"format":"aster.reference-values/v1","platform":"tdx","measurements":{"mrtd":"ab"}} {}`, "data after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	for _, ok := range []string{
		`{"format":"aster.reference-values/v1","platform":"tdx","measurements":{"mrtd":"ab"},"inputs":{"anything":{"goes":1}}}`,
		`{"format":"aster.reference-values/v1","platform":"tdx","events":[{"register":1,"register_kind":"rtmr","type":"EV_X","digest":"00"}]}`,
		`{"format":"aster.reference-values/v1","platform":"tpm","measurements":{"pcrs":{"sha256:7":"00"}}}`,
	} {
		if _, err := Parse([]byte(ok)); err != nil {
			t.Errorf("Parse(%s): %v", ok, err)
		}
	}
}
