package buildpack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		in       string
		registry string
		want     Ref
		err      string
	}{
		{in: "./buildpacks/go", want: Ref{Kind: KindDir, Path: "./buildpacks/go"}},
		{in: "/abs/bp", want: Ref{Kind: KindDir, Path: "/abs/bp"}},
		{in: "bp", want: Ref{Kind: KindDir, Path: "bp"}},
		{in: "  /abs/bp  ", want: Ref{Raw: "/abs/bp", Kind: KindDir, Path: "/abs/bp"}},
		{in: "/path with space/bp", want: Ref{Kind: KindDir, Path: "/path with space/bp"}},
		{in: "file:///srv/bp", want: Ref{Kind: KindDir, Path: "/srv/bp"}},
		{in: "file://localhost/srv/bp", want: Ref{Kind: KindDir, Path: "/srv/bp"}},
		{in: "file:///srv/bp.git#v1.2", want: Ref{Kind: KindGit, Path: "/srv/bp.git", Rev: "v1.2"}},
		{in: "file:///srv/repo#main", want: Ref{Kind: KindGit, Path: "/srv/repo", Rev: "main"}},
		{in: "/srv/bp.git", want: Ref{Kind: KindGit, Path: "/srv/bp.git"}},
		{in: "./bp.tgz", want: Ref{Kind: KindTarball, Path: "./bp.tgz"}},
		{in: "https://github.com/heroku/heroku-buildpack-go.git", want: Ref{Kind: KindGit, URL: "https://github.com/heroku/heroku-buildpack-go.git"}},
		{in: "https://github.com/heroku/heroku-buildpack-go#v190", want: Ref{Kind: KindGit, URL: "https://github.com/heroku/heroku-buildpack-go", Rev: "v190"}},
		{in: "https://example.com/bp.git#feature/x", want: Ref{Kind: KindGit, URL: "https://example.com/bp.git", Rev: "feature/x"}},
		{in: "https://example.com/bp.git#0123abcd", want: Ref{Kind: KindGit, URL: "https://example.com/bp.git", Rev: "0123abcd"}},
		{in: "ssh://git@example.com/bp.git", want: Ref{Kind: KindGit, URL: "ssh://git@example.com/bp.git"}},
		{in: "git@github.com:heroku/heroku-buildpack-go.git#main", want: Ref{Kind: KindGit, URL: "git@github.com:heroku/heroku-buildpack-go.git", Rev: "main"}},
		{in: "https://example.com/a/bp.tgz", want: Ref{Kind: KindTarball, URL: "https://example.com/a/bp.tgz"}},
		{in: "https://example.com/bp.tar.gz?x=1", want: Ref{Kind: KindTarball, URL: "https://example.com/bp.tar.gz?x=1"}},
		{in: "https://example.com/bp.tar", want: Ref{Kind: KindTarball, URL: "https://example.com/bp.tar"}},
		{in: "http://127.0.0.1:8080/bp.tgz", want: Ref{Kind: KindTarball, URL: "http://127.0.0.1:8080/bp.tgz"}},
		{in: "http://localhost/bp.tgz", want: Ref{Kind: KindTarball, URL: "http://localhost/bp.tgz"}},
		{in: "heroku/nodejs", want: Ref{Kind: KindTarball, Short: "heroku/nodejs",
			URL: "https://buildpack-registry.s3.dualstack.us-east-1.amazonaws.com/buildpacks/heroku/nodejs.tgz"}},
		{in: "heroku-community/apt", registry: "https://github.com/{namespace}/heroku-buildpack-{name}.git",
			want: Ref{Kind: KindGit, Short: "heroku-community/apt", URL: "https://github.com/heroku-community/heroku-buildpack-apt.git"}},
		{in: "heroku/go#v1", registry: "https://github.com/{namespace}/heroku-buildpack-{name}.git",
			want: Ref{Kind: KindGit, Short: "heroku/go", URL: "https://github.com/heroku/heroku-buildpack-go.git", Rev: "v1"}},
		{in: "ns/name", registry: "http://127.0.0.1:9/{namespace}/{name}.tgz",
			want: Ref{Kind: KindTarball, Short: "ns/name", URL: "http://127.0.0.1:9/ns/name.tgz"}},

		{in: "", err: "empty"},
		{in: "--upload-pack=touch /tmp/pwned", err: `starts with "-"`},
		{in: "-b", err: `starts with "-"`},
		{in: "https://example.com/bp.git#--upload-pack=x", err: `#ref starts with "-"`},
		{in: "https://example.com/bp.git#-x", err: `#ref starts with "-"`},
		{in: "https://example.com/bp.git#a..b", err: "must be a branch"},
		{in: "https://example.com/bp.git#a b", err: "must be a branch"},
		{in: "https://example.com/bp.git#", err: "empty #ref"},
		{in: "#main", err: "no location"},
		{in: "ext::sh -c touch% /tmp/pwned", err: "unsupported scheme"},
		{in: "git://example.com/bp.git", err: "unsupported scheme"},
		{in: "ftp://example.com/bp.tgz", err: "unsupported scheme"},
		{in: "http://example.com/bp.git", err: "plain http is refused"},
		{in: "http://example.com/bp.tgz", err: "plain http is only allowed"},
		{in: "https://example.com/bp.tgz#v1", err: "takes no #ref"},
		{in: "https://user:pw@example.com/bp.git", err: "password"},
		{in: "https:///bp.git", err: "without a host"},
		{in: "file://remote/srv/bp", err: "local path"},
		{in: "bp\nx", err: "control characters"},
		{in: "ns/name", registry: "{namespace}-{name}", err: "must expand to a URL"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRef(tc.in, tc.registry)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), ":pw@") {
					t.Errorf("password shown: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want.Raw == "" {
				want.Raw = tc.in
			}
			if got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestRefResolve(t *testing.T) {
	base := t.TempDir()
	if err := os.MkdirAll(filepath.Join(base, "buildpacks", "go"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want Ref
	}{
		{"./bp", Ref{Raw: "./bp", Kind: KindDir, Path: filepath.Join(base, "bp")}},
		{"/abs", Ref{Raw: "/abs", Kind: KindDir, Path: "/abs"}},
		{"buildpacks/go", Ref{Raw: "buildpacks/go", Kind: KindDir, Path: filepath.Join(base, "buildpacks", "go")}},
		{"./buildpacks/go#v1", Ref{Raw: "./buildpacks/go#v1", Kind: KindGit, Path: filepath.Join(base, "buildpacks", "go"), Rev: "v1"}},
		{"heroku/go", Ref{Raw: "heroku/go", Kind: KindTarball, Short: "heroku/go",
			URL: "https://buildpack-registry.s3.dualstack.us-east-1.amazonaws.com/buildpacks/heroku/go.tgz"}},
		{"https://example.com/x.git", Ref{Raw: "https://example.com/x.git", Kind: KindGit, URL: "https://example.com/x.git"}},
	}
	for _, tc := range tests {
		r, err := ParseRef(tc.in, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Resolve(base); got != tc.want {
			t.Errorf("Resolve(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// FuzzParseRef: no panic; nothing accepted starts with "-", and a git
// reference's URL, path and rev never do either.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"./bp", "heroku/go", "https://x/y.git#v1", "git@h:r#main", "file:///a#b", "--upload-pack=x", "https://x/-y#-z", "ext::sh", "a/b#c"} {
		f.Add(s, "")
	}
	f.Add("a/b", "https://github.com/{namespace}/{name}.git")
	f.Fuzz(func(t *testing.T, s, registry string) {
		r, err := ParseRef(s, registry)
		if err != nil {
			return
		}
		if strings.HasPrefix(r.Raw, "-") || strings.HasPrefix(r.Rev, "-") || strings.HasPrefix(r.URL, "-") {
			t.Fatalf("accepted %+v", r)
		}
		if r.Kind == KindGit && strings.HasPrefix(r.Path, "-") {
			t.Fatalf("accepted git path %+v", r)
		}
		if (r.URL == "") == (r.Path == "") {
			t.Fatalf("exactly one of URL and Path must be set: %+v", r)
		}
	})
}
