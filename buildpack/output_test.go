package buildpack

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestBuildOutputOrder: with several buildpacks each "-----> Buildpack X"
// header comes right before that buildpack's own output, not all of them
// before the first one's.
func TestBuildOutputOrder(t *testing.T) {
	app := newApp(t, map[string]string{"first.txt": "x"})
	var out syncBuffer
	opts := buildOpts(t, app, &out, "bp-first", "bp-second")
	if _, err := Build(context.Background(), opts); err != nil {
		t.Fatalf("Build: %v\n%s", err, out.String())
	}
	o := out.String()
	order := []string{
		"-----> Buildpack " + bpDir(t, "bp-first") + "\n",
		"-----> First app detected",
		"-----> First: compiling",
		"-----> Buildpack " + bpDir(t, "bp-second") + "\n",
		"-----> Second app detected",
		"-----> Second: HANDOFF=from first",
		"-----> Build succeeded",
	}
	at := 0
	for _, w := range order {
		i := strings.Index(o[at:], w)
		if i < 0 {
			t.Fatalf("output lacks %q after byte %d (or has it too early):\n%s", w, at, o)
		}
		at += i + len(w)
	}
	if n := strings.Count(o, "-----> Buildpack "); n != 2 {
		t.Errorf("%d buildpack headers, want 2:\n%s", n, o)
	}
}

// TestBuildPhaseTable: the phase table aligns the durations on the longest
// name, however long, and lists the step that failed, a fetch included,
// as a failed row.
func TestBuildPhaseTable(t *testing.T) {
	app := newApp(t, map[string]string{"first.txt": "x"})
	long := filepath.Join(t.TempDir(), strings.Repeat("a-very-long-buildpack-directory-name-", 3))
	missing := "./no-such-buildpack-" + strings.Repeat("x", 40)
	tests := []struct {
		name   string
		bps    []string
		failed string // the failed row's label; "" for a build that succeeds
		phase  string
	}{
		{name: "success", bps: []string{"bp-first", "bp-second"}},
		{name: "failed fetch", bps: []string{"bp-norelease", missing}, failed: "fetch " + missing, phase: PhaseFetch},
		{name: "failed compile", bps: []string{"bp-norelease", "bp-compile-fail"}, failed: "compile " + bpDir(t, "bp-compile-fail"), phase: PhaseCompile},
		{name: "failed detect", bps: []string{"bp-detect-fail"}, failed: "detect " + bpDir(t, "bp-detect-fail"), phase: PhaseDetect},
		{name: "long name", bps: []string{"bp-norelease", long}, failed: "fetch " + long, phase: PhaseFetch},
	}
	row := regexp.MustCompile(`^       (\S+(?: \S+)?) +(\d+\.\d\ds)( +failed)?$`)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out syncBuffer
			_, err := Build(context.Background(), buildOpts(t, app, &out, tc.bps...))
			var be *BuildError
			if (tc.failed == "") != (err == nil) || (err != nil && (!errors.As(err, &be) || be.Phase != tc.phase)) {
				t.Fatalf("err = %v, want failure in %q", err, tc.phase)
			}
			o := out.String()
			_, table, ok := strings.Cut(o, "-----> Build ")
			if !ok {
				t.Fatalf("no summary:\n%s", o)
			}
			lines := strings.Split(strings.TrimRight(table, "\n"), "\n")[1:]
			if tc.failed == "" {
				lines = lines[:len(lines)-1] // "Slug ready"
			}
			end, failedRows := -1, 0
			for _, l := range lines {
				m := row.FindStringSubmatch(l)
				if m == nil {
					t.Errorf("not a phase row: %q\n%s", l, o)
					continue
				}
				if e := strings.Index(l, m[2]) + len(m[2]); end < 0 {
					end = e
				} else if e != end {
					t.Errorf("row %q: durations not aligned (ends at %d, not %d)\n%s", l, e, end, table)
				}
				if m[3] != "" {
					failedRows++
					if m[1] != tc.failed {
						t.Errorf("failed row %q, want %q", m[1], tc.failed)
					}
				}
			}
			if want := map[bool]int{true: 0, false: 1}[tc.failed == ""]; failedRows != want {
				t.Errorf("%d failed rows, want %d:\n%s", failedRows, want, table)
			}
		})
	}
}
