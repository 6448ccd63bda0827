package tdx

import "testing"

// TestConverge pins the convergence rules of Intel's QVL
// (convergeTcbStatusWithTdxModuleStatus / ...WithQeTcbStatus).
func TestConverge(t *testing.T) {
	for _, tc := range []struct{ platform, component, want string }{
		{UpToDate, "", UpToDate},
		{UpToDate, UpToDate, UpToDate},
		{SWHardeningNeeded, UpToDate, SWHardeningNeeded},
		{UpToDate, OutOfDate, OutOfDate},
		{SWHardeningNeeded, OutOfDate, OutOfDate},
		{ConfigurationNeeded, OutOfDate, OutOfDateConfigurationNeeded},
		{ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded},
		{OutOfDate, OutOfDate, OutOfDate},
		{UpToDate, Revoked, Revoked},
		{Revoked, UpToDate, Revoked},
		{ConfigurationNeeded, SWHardeningNeeded, ConfigurationNeeded},
	} {
		if got := converge(tc.platform, tc.component); got != tc.want {
			t.Errorf("converge(%s, %s) = %s, want %s", tc.platform, tc.component, got, tc.want)
		}
	}
}
