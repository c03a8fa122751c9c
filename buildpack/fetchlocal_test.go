package buildpack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFetchLocalTarballByContent: a local tarball (a path or file://) is
// cached by its content, not its path: after the file changes, the next
// fetch uses the new content without Refresh; the same content again is
// served from the cache.
func TestFetchLocalTarballByContent(t *testing.T) {
	dir := t.TempDir()
	tgz := filepath.Join(dir, "good.tgz")
	version := func(v string) string {
		data := makeTar(t, true, file("bin/compile", "#!/bin/sh\necho compile-"+v+"\n", 0o755))
		if err := os.WriteFile(tgz, data, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		return "sha256:" + hex.EncodeToString(sum[:])
	}
	opts := FetchOptions{CacheDir: t.TempDir(), Environ: testEnviron()}
	for _, raw := range []string{tgz, "file://" + tgz} {
		ref, err := ParseRef(raw, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range []struct {
			v      string
			cached bool
		}{{"v1", false}, {"v1", true}, {"v2", false}, {"v2", true}, {"v1", true}} {
			want := version(step.v)
			var log syncBuffer
			o := opts
			o.Log = &log
			got, resolved, err := Fetch(context.Background(), ref, o)
			if err != nil {
				t.Fatalf("%s %s: %v", raw, step.v, err)
			}
			if resolved != want {
				t.Errorf("%s %s: resolved %s, want %s", raw, step.v, resolved, want)
			}
			if body := readFile(t, filepath.Join(got, "bin", "compile")); !strings.Contains(body, "compile-"+step.v) {
				t.Errorf("%s %s: fetched bin/compile %q: the cache kept the old tarball", raw, step.v, body)
			}
			if cached := strings.Contains(log.String(), "using cached"); cached != step.cached && raw == tgz {
				t.Errorf("%s %s: cached = %v, want %v (%s)", raw, step.v, cached, step.cached, log.String())
			}
		}
	}
}
