package export

import "testing"

// TestGolden pins the exact text of every format.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name, format string
		opt          Options
	}{
		{"systemd", "systemd", Options{}},
		{"systemd-user", "systemd", Options{UserUnits: true}},
		{"supervisord", "supervisord", Options{}},
		{"launchd", "launchd", Options{}},
		{"runit", "runit", Options{}},
		{"compose", "compose", Options{}},
		{"kubernetes", "kubernetes", Options{}},
		{"kubernetes-split", "kubernetes", Options{Split: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := export(t, tc.format, goldenApp(), tc.opt)
			checkGolden(t, tc.name, dir)
		})
	}
}
