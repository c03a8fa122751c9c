package buildpack

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// DefaultRegistry is the URL template the registry shorthand
// "namespace/name" expands to: Heroku's buildpack registry tarballs.
// {namespace} and {name} are replaced; a template ending in .git (such as
// dokku's "https://github.com/{namespace}/heroku-buildpack-{name}.git")
// makes the shorthand a git reference instead.
const DefaultRegistry = "https://buildpack-registry.s3.dualstack.us-east-1.amazonaws.com/buildpacks/{namespace}/{name}.tgz"

// Kind says how a buildpack is obtained.
type Kind int

// The kinds of reference.
const (
	KindDir     Kind = iota + 1 // a local directory, used as it is
	KindGit                     // a git repository, cloned
	KindTarball                 // a .tgz, .tar.gz or .tar, downloaded or read and extracted
)

func (k Kind) String() string {
	switch k {
	case KindDir:
		return "dir"
	case KindGit:
		return "git"
	case KindTarball:
		return "tarball"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// MarshalText renders the kind as "dir", "git" or "tarball".
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (k *Kind) UnmarshalText(b []byte) error {
	switch string(b) {
	case "dir":
		*k = KindDir
	case "git":
		*k = KindGit
	case "tarball":
		*k = KindTarball
	default:
		return fmt.Errorf("unknown buildpack kind %q", b)
	}
	return nil
}

// Ref is a parsed buildpack reference. Exactly one of URL and Path is set.
type Ref struct {
	Raw   string `json:"ref"`             // as written; used in messages
	Kind  Kind   `json:"kind"`            // how it is obtained
	URL   string `json:"url,omitempty"`   // remote git or tarball URL, without the #ref
	Path  string `json:"path,omitempty"`  // local directory, repository or tarball file
	Rev   string `json:"rev,omitempty"`   // git branch, tag or commit after "#"
	Short string `json:"short,omitempty"` // "namespace/name" when written as registry shorthand
	// SHA256 pins a tarball: the lower-case hex digest after "#sha256=".
	// Fetch refuses a tarball whose digest differs.
	SHA256 string `json:"sha256,omitempty"`
}

// String returns the reference as written.
func (r Ref) String() string { return r.Raw }

// The patterns compile on first use: every start of ganger would pay for
// them otherwise.
var (
	revRE       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._/+@-]*$`) })
	shorthandRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	})
	scpRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:`) })
	schemeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`) })
)

const refHint = "use a local path, file://PATH, https://HOST/REPO.git[#REF], ssh://..., git@HOST:REPO[#REF], an https tarball URL (.tgz, .tar.gz, .tar) or namespace/name"

// ParseRef parses a buildpack reference. registry is the URL template for
// the namespace/name shorthand ("" means DefaultRegistry). It only looks at
// the text: a relative local path stays relative until Resolve.
//
// A reference starting with "-", a #ref starting with "-" or holding
// anything but letters, digits and ._/+@-, a plain-http git URL, and any
// other scheme (git://, ext::, ...) are refused. Plain http is allowed for
// tarballs from loopback hosts only.
//
// A tarball (URL, local path, file:// or registry shorthand) may end in
// "#sha256=HEX" instead: a pin, Ref.SHA256, that Fetch checks. A #ref never
// holds "=", so the two cannot be confused; a pin on a git repository or a
// directory is refused.
func ParseRef(s, registry string) (Ref, error) {
	raw := strings.TrimSpace(s)
	if raw == "" {
		return Ref{}, errors.New("empty buildpack reference")
	}
	if strings.HasPrefix(raw, "-") {
		return Ref{}, fmt.Errorf("buildpack reference %q starts with \"-\": refused, it would be read as an option", raw)
	}
	if strings.IndexFunc(raw, isControl) >= 0 {
		return Ref{}, fmt.Errorf("buildpack reference %q contains control characters", raw)
	}
	loc, rev, hasRev := strings.Cut(raw, "#")
	pin := ""
	if p, ok := strings.CutPrefix(rev, pinPrefix); ok && hasRev {
		if len(p) != 64 || strings.Trim(strings.ToLower(p), "0123456789abcdef") != "" {
			return Ref{}, fmt.Errorf("buildpack reference %q: the pin after #sha256= must be 64 hexadecimal digits (sha256sum FILE prints them)", raw)
		}
		pin, rev, hasRev = strings.ToLower(p), "", false
	}
	if hasRev {
		if err := checkRev(raw, rev); err != nil {
			return Ref{}, err
		}
	}
	if loc == "" {
		return Ref{}, fmt.Errorf("buildpack reference %q has no location before \"#\"", raw)
	}
	r, err := parseLoc(raw, loc, rev, hasRev, registry, pin)
	if err != nil {
		return Ref{}, err
	}
	if pin != "" && r.Kind != KindTarball {
		return Ref{}, fmt.Errorf("buildpack reference %q: #sha256= pins tarballs only; pin a git buildpack to a commit with #COMMIT", raw)
	}
	r.SHA256 = pin
	return r, nil
}

// pinPrefix starts the fragment that pins a tarball to its digest.
const pinPrefix = "sha256="

// parseLoc is ParseRef for the part before "#" (rev and hasRev say what
// followed it, pin a #sha256= pin).
func parseLoc(raw, loc, rev string, hasRev bool, registry, pin string) (Ref, error) {
	r := Ref{Raw: raw, Rev: rev}
	switch {
	case strings.HasPrefix(loc, "file://"):
		u, err := url.Parse(loc)
		if err != nil {
			return Ref{}, fmt.Errorf("buildpack reference %q: %w", raw, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return Ref{}, fmt.Errorf("buildpack reference %q: file:// URLs must name a local path (file:///abs/path)", raw)
		}
		if u.Path == "" {
			return Ref{}, fmt.Errorf("buildpack reference %q: file:// URL without a path", raw)
		}
		return localRef(r, u.Path), nil
	case strings.HasPrefix(loc, "https://"), strings.HasPrefix(loc, "http://"):
		u, err := url.Parse(loc)
		if err != nil {
			return Ref{}, fmt.Errorf("buildpack reference %q: %w", raw, err)
		}
		if u.Host == "" {
			return Ref{}, fmt.Errorf("buildpack reference %q: URL without a host", raw)
		}
		if u.User != nil {
			if _, hasPass := u.User.Password(); hasPass {
				return Ref{}, fmt.Errorf("buildpack reference %q: refusing a URL with a password in it; use a credential helper", redactURL(u))
			}
		}
		r.URL = loc
		if isTarball(u.Path) {
			if hasRev {
				return Ref{}, fmt.Errorf("buildpack reference %q: a tarball URL takes no #ref, only a #sha256=HEX pin", raw)
			}
			if u.Scheme == "http" && !isLoopback(u.Hostname()) {
				return Ref{}, fmt.Errorf("buildpack reference %q: plain http is only allowed from this machine; use https", raw)
			}
			r.Kind = KindTarball
			return r, nil
		}
		if u.Scheme == "http" {
			return Ref{}, fmt.Errorf("buildpack reference %q: git over plain http is refused; use https or ssh", raw)
		}
		r.Kind = KindGit
		return r, nil
	case strings.HasPrefix(loc, "ssh://"), scpRE().MatchString(loc):
		r.URL = loc
		r.Kind = KindGit
		return r, nil
	case schemeRE().MatchString(loc):
		return Ref{}, fmt.Errorf("buildpack reference %q: unsupported scheme; %s", raw, refHint)
	case shorthandRE().MatchString(loc) && !strings.HasPrefix(loc, "."):
		if registry == "" {
			registry = DefaultRegistry
		}
		ns, name, _ := strings.Cut(loc, "/")
		expanded := strings.NewReplacer("{namespace}", ns, "{name}", name).Replace(registry)
		if !strings.Contains(expanded, "://") {
			return Ref{}, fmt.Errorf("buildpack registry template %q must expand to a URL containing {namespace} and {name}", registry)
		}
		if hasRev {
			expanded += "#" + rev
		}
		if pin != "" {
			expanded += "#" + pinPrefix + pin
		}
		x, err := ParseRef(expanded, "")
		if err != nil {
			return Ref{}, fmt.Errorf("buildpack reference %q (registry shorthand): %w; hint: write ./%s for a local path", raw, err, raw)
		}
		x.Raw, x.Short = raw, loc
		return x, nil
	}
	return localRef(r, loc), nil
}

func checkRev(raw, rev string) error {
	switch {
	case rev == "":
		return fmt.Errorf("buildpack reference %q: empty #ref", raw)
	case strings.HasPrefix(rev, "-"):
		return fmt.Errorf("buildpack reference %q: #ref starts with \"-\": refused, it would be read as an option", raw)
	case len(rev) > 256 || !revRE().MatchString(rev) || strings.Contains(rev, ".."):
		return fmt.Errorf("buildpack reference %q: #ref %q must be a branch, tag or commit (letters, digits, ._/+@-)", raw, rev)
	}
	return nil
}

// localRef classifies a local path: with a #ref or ending in .git it is a
// repository, ending in .tgz, .tar.gz or .tar a tarball, else a directory
// (Fetch also clones a directory that turns out to be a bare repository).
func localRef(r Ref, p string) Ref {
	r.Path = p
	switch {
	case r.Rev != "" || strings.HasSuffix(strings.TrimSuffix(p, "/"), ".git"):
		r.Kind = KindGit
	case isTarball(p):
		r.Kind = KindTarball
	default:
		r.Kind = KindDir
	}
	return r
}

func isTarball(p string) bool {
	p = strings.ToLower(p)
	return strings.HasSuffix(p, ".tgz") || strings.HasSuffix(p, ".tar.gz") || strings.HasSuffix(p, ".tar")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func redactURL(u *url.URL) string {
	c := *u
	c.User = url.User(c.User.Username())
	return c.String()
}

// Resolve makes the reference usable from any working directory: a relative
// local path becomes absolute against base, and a registry shorthand that
// names an existing directory under base becomes that local directory (so
// "buildpacks/go" means the directory when there is one). Remote references
// are returned unchanged.
func (r Ref) Resolve(base string) Ref {
	if r.Short != "" && base != "" {
		p := filepath.Join(base, filepath.FromSlash(r.Short))
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			x := Ref{Raw: r.Raw, Rev: r.Rev}
			return localRef(x, p)
		}
		return r
	}
	if r.Path != "" && !filepath.IsAbs(r.Path) && base != "" {
		r.Path = filepath.Join(base, r.Path)
	}
	return r
}

// cacheKey identifies the fetched content of a reference in the cache.
func (r Ref) cacheKey() string {
	loc := r.URL
	if loc == "" {
		loc = r.Path
	}
	return r.Kind.String() + "\x00" + loc + "\x00" + r.Rev
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
