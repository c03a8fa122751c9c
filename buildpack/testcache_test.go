package buildpack

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestTestCacheSeeded: the first test run starts its CACHE_DIR
// (.ganger/test-cache) as a copy of the build cache (.ganger/cache), so a
// cache a user seeded or a build filled serves the tests too; afterwards
// the two are separate: a test run never writes the build cache, and a
// test-cache that exists is not seeded again.
func TestTestCacheSeeded(t *testing.T) {
	app := newApp(t, map[string]string{"first.txt": "", "app.json": `{"scripts":{"test":"echo count=$(cat cache-count)"}}`})
	var out syncBuffer
	if _, err := Build(context.Background(), buildOpts(t, app, &out, "bp-first")); err != nil {
		t.Fatalf("Build: %v\n%s", err, out.String())
	}
	for i, want := range []string{"count=2", "count=3"} {
		out = syncBuffer{}
		code, err := Test(context.Background(), buildOpts(t, app, &out, "bp-first"))
		if err != nil || code != 0 || !strings.Contains(out.String(), want) {
			t.Fatalf("run %d: code %d err %v, want %q in:\n%s", i+1, code, err, want, out.String())
		}
		seeded := strings.Contains(out.String(), "-----> Seeded "+TestCacheDir+" from "+CacheDirName)
		if seeded != (i == 0) {
			t.Errorf("run %d: seeded = %v:\n%s", i+1, seeded, out.String())
		}
	}
	if got := readFile(t, filepath.Join(app, CacheDirName, "first-runs")); got != "run\n" {
		t.Errorf("the build cache changed after test runs: %q", got)
	}
}
