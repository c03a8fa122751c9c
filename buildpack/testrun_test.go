package buildpack

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gangerdev/ganger/env"
)

func TestTest(t *testing.T) {
	tests := []struct {
		name     string
		appJSON  string
		bps      []string
		exitVar  string
		code     int
		errPhase string
		errMsg   string
		want     []string
		notWant  []string
	}{
		{name: "bin/test passes", bps: []string{"bp-test"}, exitVar: "0",
			want:    []string{"1..3", "ok 1 - test-compile ran", "ok 2 - profile sourced", "ok 3 - CI, cwd and HOME", "CI=true", "Tests passed"},
			notWant: []string{"not ok"}},
		{name: "bin/test fails", bps: []string{"bp-test"}, exitVar: "7", code: 7, want: []string{"Tests failed (exit 7)"}},
		{name: "scripts.test wins", bps: []string{"bp-test"}, appJSON: `{"scripts":{"test":"echo custom $CI $TESTY_PROFILE $(cat compiled-by); exit 4"}}`,
			code: 4, want: []string{"custom true sourced test-compile"}, notWant: []string{"1..3"}},
		{name: "test-setup then test", bps: []string{"bp-norelease"},
			appJSON: `{"scripts":{"test-setup":"echo prepared > setup.txt","test":"cat setup.txt; test -f norelease-ran"}}`,
			want:    []string{"prepared", "Tests passed"}},
		{name: "test-setup fails", bps: []string{"bp-test"}, appJSON: `{"scripts":{"test-setup":"exit 5","test":"true"}}`,
			errPhase: PhaseTestSetup, errMsg: "build failed in test-setup (exit 5)"},
		{name: "no test command", bps: []string{"bp-norelease"}, errPhase: PhaseTest, errMsg: "no test command"},
		{name: "compile used without test-compile", bps: []string{"bp-norelease", "bp-test"},
			appJSON: `{"scripts":{"test":"test -f norelease-ran && echo both-ran"}}`, want: []string{"both-ran"}},
		{name: "build failure", bps: []string{"bp-compile-fail"}, errPhase: PhaseCompile, errMsg: "failed in compile (exit 3)"},
		{name: "bad scripts", bps: []string{"bp-test"}, appJSON: `{"scripts":{"test":["x"]}}`, errPhase: PhaseTest, errMsg: "scripts.test must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"x": ""}
			if tc.appJSON != "" {
				files["app.json"] = tc.appJSON
			}
			app := newApp(t, files)
			var out syncBuffer
			opts := buildOpts(t, app, &out, tc.bps...)
			if tc.exitVar != "" {
				opts.Config = []env.Var{{Key: "TEST_EXIT", Value: tc.exitVar}}
			}
			code, err := Test(context.Background(), opts)
			if tc.errPhase != "" {
				var be *BuildError
				if !errors.As(err, &be) || be.Phase != tc.errPhase || !strings.Contains(err.Error(), tc.errMsg) {
					t.Fatalf("err = %v, want phase %s %q\n%s", err, tc.errPhase, tc.errMsg, out.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("Test: %v\n%s", err, out.String())
			}
			if code != tc.code {
				t.Errorf("exit code = %d, want %d\n%s", code, tc.code, out.String())
			}
			o := out.String()
			for _, w := range tc.want {
				if !strings.Contains(o, w) {
					t.Errorf("output lacks %q:\n%s", w, o)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(o, w) {
					t.Errorf("output has %q:\n%s", w, o)
				}
			}
			if log := readFile(t, filepath.Join(app, TestLogFile)); !strings.Contains(log, "Tests ") {
				t.Errorf("test log:\n%s", log)
			}
			if _, err := os.Stat(filepath.Join(app, SlugDir)); err == nil {
				t.Error("a test run created a slug")
			}
			if left, _ := filepath.Glob(filepath.Join(app, GangerDir, "tmp-*")); len(left) > 0 {
				t.Errorf("workspace left: %v", left)
			}
			if tc.bps[0] == "bp-test" && tc.appJSON == "" {
				if readFile(t, filepath.Join(app, ArtifactsDir, "report.txt")) != "report\n" {
					t.Error("artifacts dir not passed to bin/test")
				}
			}
		})
	}
}

// TestTestCacheKept: test runs have their own CACHE_DIR, kept between
// runs, and a stale workspace of a killed run is cleaned up.
func TestTestCacheKept(t *testing.T) {
	app := newApp(t, map[string]string{"first.txt": "", "app.json": `{"scripts":{"test":"echo count=$(cat cache-count)"}}`})
	stale := filepath.Join(app, GangerDir, "tmp-test-stale")
	writeFiles(t, stale, map[string]string{"env/SECRET": "x"})
	for i, want := range []string{"count=1", "count=2"} {
		var out syncBuffer
		code, err := Test(context.Background(), buildOpts(t, app, &out, "bp-first"))
		if err != nil || code != 0 || !strings.Contains(out.String(), want) {
			t.Fatalf("run %d: code %d err %v, want %q in:\n%s", i+1, code, err, want, out.String())
		}
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("stale workspace kept")
	}
	if _, err := os.Stat(filepath.Join(app, CacheDirName)); err == nil {
		t.Error("a test run used the build cache dir")
	}
}
