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

// TestParseRefPin: "#sha256=HEX" pins a tarball (URL, local path,
// file:// or registry shorthand) to a digest; the git "#ref" syntax is
// unchanged, and a pin on anything but a tarball is refused.
func TestParseRefPin(t *testing.T) {
	hexa := strings.Repeat("ab", 32)
	tests := []struct {
		in, registry string
		want         Ref
		err          string
	}{
		{in: "https://example.com/bp.tgz#sha256=" + hexa, want: Ref{Kind: KindTarball, URL: "https://example.com/bp.tgz", SHA256: hexa}},
		{in: "https://example.com/bp.tgz#sha256=" + strings.ToUpper(hexa), want: Ref{Kind: KindTarball, URL: "https://example.com/bp.tgz", SHA256: hexa}},
		{in: "./bp.tgz#sha256=" + hexa, want: Ref{Kind: KindTarball, Path: "./bp.tgz", SHA256: hexa}},
		{in: "file:///srv/bp.tar.gz#sha256=" + hexa, want: Ref{Kind: KindTarball, Path: "/srv/bp.tar.gz", SHA256: hexa}},
		{in: "heroku/nodejs#sha256=" + hexa, want: Ref{Kind: KindTarball, Short: "heroku/nodejs", SHA256: hexa,
			URL: "https://buildpack-registry.s3.dualstack.us-east-1.amazonaws.com/buildpacks/heroku/nodejs.tgz"}},
		// The git #ref syntax still means a branch, tag or commit.
		{in: "https://example.com/bp.git#v1", want: Ref{Kind: KindGit, URL: "https://example.com/bp.git", Rev: "v1"}},
		{in: "./repo#main", want: Ref{Kind: KindGit, Path: "./repo", Rev: "main"}},

		{in: "https://example.com/bp.tgz#sha256=abc", err: "64 hexadecimal digits"},
		{in: "https://example.com/bp.tgz#sha256=" + strings.Repeat("zz", 32), err: "64 hexadecimal digits"},
		{in: "https://example.com/bp.tgz#sha256=", err: "64 hexadecimal digits"},
		{in: "https://example.com/bp.git#sha256=" + hexa, err: "pins tarballs only; pin a git buildpack to a commit with #COMMIT"},
		{in: "./bp#sha256=" + hexa, err: "pins tarballs only"},
		{in: "heroku/go#sha256=" + hexa, registry: "https://github.com/{namespace}/heroku-buildpack-{name}.git", err: "pins tarballs only"},
		{in: "https://example.com/bp.tgz#v1", err: "takes no #ref"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRef(tc.in, tc.registry)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			want.Raw = tc.in
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestFetchPinned: a pinned tarball whose sha256 differs is refused before
// it is extracted or cached, with both digests in the error; the right one
// is fetched, and a cached copy is used only when it matches the pin.
func TestFetchPinned(t *testing.T) {
	good := makeTar(t, true, file("bin/compile", "#!/bin/sh\necho good\n", 0o755))
	evil := makeTar(t, true, file("bin/compile", "#!/bin/sh\necho evil\n", 0o755))
	digest := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	goodSum, evilSum := digest(good), digest(evil)
	local := filepath.Join(t.TempDir(), "bp.tgz")
	if err := os.WriteFile(local, good, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := newTarServer(t, map[string][]byte{"/bp.tgz": good})
	cache := t.TempDir()
	opts := FetchOptions{CacheDir: cache, Environ: srv.environ()}
	fetch := func(raw string) (string, string, error) {
		t.Helper()
		ref, err := ParseRef(raw, "")
		if err != nil {
			t.Fatal(err)
		}
		return Fetch(context.Background(), ref, opts)
	}
	for _, loc := range []string{local, "file://" + local, srv.URL + "/bp.tgz"} {
		_, _, err := fetch(loc + "#sha256=" + evilSum)
		if err == nil || !strings.Contains(err.Error(), "sha256:"+goodSum) || !strings.Contains(err.Error(), "sha256:"+evilSum) ||
			!strings.Contains(err.Error(), "refused") {
			t.Errorf("%s pinned to the wrong digest: err = %v", loc, err)
		}
		if ents, _ := os.ReadDir(cache); len(ents) > 0 {
			t.Errorf("%s: a refused tarball was cached: %v", loc, ents)
		}
		dir, resolved, err := fetch(loc + "#sha256=" + goodSum)
		if err != nil || resolved != "sha256:"+goodSum || !strings.Contains(readFile(t, filepath.Join(dir, "bin/compile")), "good") {
			t.Errorf("%s pinned to the right digest: %s %v", loc, resolved, err)
		}
		if err := os.RemoveAll(cache); err != nil {
			t.Fatal(err)
		}
	}

	// A copy cached without a pin is not taken for a pinned one it does
	// not match: the tarball is fetched again and checked.
	if _, _, err := fetch(srv.URL + "/bp.tgz"); err != nil {
		t.Fatal(err)
	}
	hits := srv.hits.Load()
	if _, _, err := fetch(srv.URL + "/bp.tgz#sha256=" + evilSum); err == nil || !strings.Contains(err.Error(), "the tarball is sha256:"+goodSum) {
		t.Errorf("a cached copy that does not match the pin: err = %v", err)
	}
	if srv.hits.Load() != hits+1 {
		t.Errorf("the pinned fetch did not go to the server")
	}
	if _, resolved, err := fetch(srv.URL + "/bp.tgz#sha256=" + goodSum); err != nil || resolved != "sha256:"+goodSum || srv.hits.Load() != hits+1 {
		t.Errorf("a cached copy that matches the pin: %s %v, %d requests", resolved, err, srv.hits.Load()-hits)
	}
}
