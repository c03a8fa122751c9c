package buildpack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// FetchOptions configure Fetch.
type FetchOptions struct {
	// CacheDir holds fetched git and tarball buildpacks, one subdirectory
	// per reference (e.g. $XDG_CACHE_HOME/ganger/buildpacks). Required for
	// anything but a local directory.
	CacheDir string
	// Refresh fetches again even when the cache has the reference.
	Refresh bool
	// Log receives progress lines and git's messages; nil discards them.
	Log io.Writer
	// MaxBytes caps a download and the size of what is extracted from it;
	// 0 means DefaultMaxBytes.
	MaxBytes int64
	// Environ is the environment git and curl run with (HOME,
	// SSH_AUTH_SOCK, proxy settings, CURL_CA_BUNDLE); every GIT_* variable
	// in it is dropped and prompts are turned off. nil means only
	// PATH=/usr/local/bin:/usr/bin:/bin.
	Environ []string
}

// cacheEntry is written beside each cached buildpack.
type cacheEntry struct {
	Ref      Ref       `json:"ref"`
	Resolved string    `json:"resolved"`
	Fetched  time.Time `json:"fetched"`
}

const (
	cacheEntryFile = "ref.json"
	cacheBPDir     = "buildpack"
)

// Fetch makes the buildpack ref available on disk and returns its directory
// and what it resolved to: the commit for git, "sha256:HEX" of the download
// for a tarball, the absolute path for a directory.
//
// A local directory is returned in place (callers copy it before running
// it; a directory that is a bare git repository is cloned instead). Git and
// tarball references are fetched into opts.CacheDir once and reused without
// touching the network until opts.Refresh; a branch ref therefore stays at
// the commit first fetched until then. A local tarball is cached by its
// content (sha256), so an edited file is extracted again. The returned directory is shared:
// treat it as read-only.
func Fetch(ctx context.Context, ref Ref, opts FetchOptions) (dir, resolved string, err error) {
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	if ref.Kind == KindDir {
		p, err := filepath.Abs(ref.Path)
		if err != nil {
			return "", "", err
		}
		fi, err := os.Stat(p)
		if err != nil {
			return "", "", fmt.Errorf("buildpack %q: %w", ref.Raw, err)
		}
		if !fi.IsDir() {
			return "", "", fmt.Errorf("buildpack %q: %s is not a directory", ref.Raw, p)
		}
		if !isBareRepo(p) {
			return p, p, nil
		}
		ref.Kind, ref.Path = KindGit, p
	}
	if opts.CacheDir == "" {
		return "", "", fmt.Errorf("buildpack %q: no buildpack cache directory configured", ref.Raw)
	}
	if err := os.MkdirAll(opts.CacheDir, 0o700); err != nil {
		return "", "", fmt.Errorf("buildpack cache: %w", err)
	}
	key := ref.cacheKey()
	// A local tarball changes in place: key it on its content, so an
	// edited file is extracted again and never served stale by path.
	localSum := ""
	if ref.Kind == KindTarball && ref.URL == "" {
		localSum, err = fileSHA256(ref.Path, maxBytes(opts))
		if err != nil {
			return "", "", fmt.Errorf("buildpack %q: %w", ref.Raw, err)
		}
		key += "\x00" + localSum
		if err := checkPin(ref, localSum); err != nil {
			return "", "", fmt.Errorf("buildpack %q: %w", ref.Raw, err)
		}
	}
	sum := sha256.Sum256([]byte(key))
	entryDir := filepath.Join(opts.CacheDir, hex.EncodeToString(sum[:12]))
	if !opts.Refresh {
		if e, err := readCacheEntry(entryDir); err == nil && (ref.SHA256 == "" || e.Resolved == pinned(ref)) {
			fmt.Fprintf(logw, "       using cached %s (%s)\n", ref.Raw, e.Resolved)
			return filepath.Join(entryDir, cacheBPDir), e.Resolved, nil
		}
	}

	tmp, err := os.MkdirTemp(opts.CacheDir, ".fetch-")
	if err != nil {
		return "", "", fmt.Errorf("buildpack cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	bp := filepath.Join(tmp, cacheBPDir)
	fmt.Fprintf(logw, "       fetching %s\n", ref.Raw)
	switch ref.Kind {
	case KindGit:
		resolved, err = fetchGit(ctx, ref, bp, opts, logw)
	case KindTarball:
		resolved, err = fetchTarball(ctx, ref, tmp, bp, opts)
	default:
		err = fmt.Errorf("unknown kind %v", ref.Kind)
	}
	if err != nil {
		return "", "", fmt.Errorf("fetching buildpack %q: %w", ref.Raw, err)
	}
	if localSum != "" && resolved != localSum {
		return "", "", fmt.Errorf("fetching buildpack %q: %s changed while it was read (%s, then %s); hint: build again once it is written", ref.Raw, ref.Path, localSum, resolved)
	}
	data, err := json.MarshalIndent(cacheEntry{Ref: ref, Resolved: resolved, Fetched: time.Now().UTC()}, "", "  ")
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(filepath.Join(tmp, cacheEntryFile), data, 0o600); err != nil {
		return "", "", err
	}
	if err := replaceDir(tmp, entryDir); err != nil {
		return "", "", fmt.Errorf("buildpack cache: %w", err)
	}
	return filepath.Join(entryDir, cacheBPDir), resolved, nil
}

func readCacheEntry(dir string) (cacheEntry, error) {
	var e cacheEntry
	data, err := os.ReadFile(filepath.Join(dir, cacheEntryFile))
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal(data, &e); err != nil {
		return e, err
	}
	if fi, err := os.Stat(filepath.Join(dir, cacheBPDir)); err != nil || !fi.IsDir() {
		return e, errors.New("cache entry without a buildpack")
	}
	return e, nil
}

// replaceDir moves the directory src to dst, replacing an existing dst.
// When another process put dst in place meanwhile, either result is fine.
func replaceDir(src, dst string) error {
	err := os.Rename(src, dst)
	if err == nil {
		return nil
	}
	if _, serr := os.Stat(dst); serr != nil {
		return err
	}
	old := dst + ".old-" + filepath.Base(src)
	if err := os.Rename(dst, old); err != nil {
		return err
	}
	defer os.RemoveAll(old)
	return os.Rename(src, dst)
}

func isBareRepo(dir string) bool {
	for _, n := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			return false
		}
	}
	_, err := os.Stat(filepath.Join(dir, "bin"))
	return err != nil
}

// fetchTarball downloads (or opens) the tarball and extracts it into
// tmp/x, then moves the directory holding bin/ to bp.
func fetchTarball(ctx context.Context, ref Ref, tmp, bp string, opts FetchOptions) (string, error) {
	max := maxBytes(opts)
	file := filepath.Join(tmp, "download")
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	var n int64
	if ref.URL != "" {
		n, err = download(ctx, ref.URL, opts.Environ, io.MultiWriter(f, h), max)
	} else {
		var src *os.File
		if src, err = os.Open(ref.Path); err != nil {
			return "", err
		}
		n, err = io.Copy(io.MultiWriter(f, h), io.LimitReader(src, max+1))
		src.Close()
	}
	if err != nil {
		return "", err
	}
	if n > max {
		return "", fmt.Errorf("tarball is larger than %d bytes: refused", max)
	}
	got := "sha256:" + hex.EncodeToString(h.Sum(nil))
	if err := checkPin(ref, got); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	x := filepath.Join(tmp, "x")
	if err := os.Mkdir(x, 0o755); err != nil {
		return "", err
	}
	if err := extractTar(f, x, max); err != nil {
		return "", err
	}
	if err := os.Rename(buildpackRoot(x), bp); err != nil {
		return "", err
	}
	return got, nil
}

// pinned is "sha256:HEX" of ref's pin.
func pinned(ref Ref) string { return "sha256:" + ref.SHA256 }

// checkPin refuses a tarball whose digest got ("sha256:HEX") is not ref's
// pin, if it has one.
func checkPin(ref Ref, got string) error {
	if ref.SHA256 == "" || got == pinned(ref) {
		return nil
	}
	return fmt.Errorf("the tarball is %s but the reference pins %s: refused; hint: if the buildpack changed on purpose, check it and pin the new digest", got, pinned(ref))
}

// maxBytes is opts.MaxBytes, or DefaultMaxBytes when unset.
func maxBytes(opts FetchOptions) int64 {
	if opts.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return opts.MaxBytes
}

// fileSHA256 returns "sha256:HEX" of the file at p, refusing a file of
// more than max bytes.
func fileSHA256(p string, max int64) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, max+1))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", p, err)
	}
	if n > max {
		return "", fmt.Errorf("tarball %s is larger than %d bytes: refused", p, max)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// curlArgs are the options download gives curl: no ~/.curlrc (-q must
// come first), no progress meter but errors shown, HTTP errors failing,
// redirects followed to https only, and the 5 minutes a download may take.
var curlArgs = []string{"-q", "--silent", "--show-error", "--fail", "--location", "--max-redirs", "10",
	"--proto", "=http,https", "--proto-redir", "=https", "--max-time", "300"}

// curl's exit codes for a protocol it refuses (here: a redirect to
// anything but https) and for --max-filesize.
const (
	curlProtocol   = 1
	curlFileTooBig = 63
)

// download copies the body of rawURL to dst through curl, the tool every
// buildpack's bin/compile uses, and returns how many bytes it copied: at
// most max+1, curl being stopped there. rawURL was checked by ParseRef
// (https, or http to this machine).
func download(ctx context.Context, rawURL string, environ []string, dst io.Writer, max int64) (int64, error) {
	shown := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		shown = u.Redacted()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stderr strings.Builder
	args := append(curlArgs[:len(curlArgs):len(curlArgs)], "--max-filesize", strconv.FormatInt(max, 10), "--", rawURL)
	cmd := commandContext(ctx, "curl", args...)
	cmd.Env = withPath(environ)
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return 0, fmt.Errorf("downloading %s needs curl, which is not installed: %w; hint: install curl (buildpacks use it too)", shown, err)
		}
		return 0, err
	}
	n, copyErr := io.Copy(dst, io.LimitReader(out, max+1))
	if copyErr != nil || n > max {
		cancel()
	}
	err = cmd.Wait()
	switch {
	case n > max:
		return n, nil // the caller refuses it
	case copyErr != nil:
		return n, copyErr
	case cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == curlFileTooBig:
		return max + 1, nil // announced as too big: the caller refuses it
	case err != nil:
		msg := lastLine(strings.TrimSpace(stderr.String()))
		if cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == curlProtocol {
			return n, fmt.Errorf("GET %s: %s; hint: redirects are followed to https only", shown, msg)
		}
		if msg != "" {
			return n, fmt.Errorf("GET %s: %s", shown, msg)
		}
		return n, fmt.Errorf("GET %s: curl: %w", shown, err)
	}
	return n, nil
}

// withPath returns environ with PATH set to defaultPath when it has none.
func withPath(environ []string) []string {
	for _, kv := range environ {
		if strings.HasPrefix(kv, "PATH=") {
			return environ
		}
	}
	return append(environ[:len(environ):len(environ)], "PATH="+defaultPath)
}

// gitEnv is the environment git runs with: environ minus every GIT_*
// variable (a pre-push hook sets GIT_DIR), with prompts off and only the
// https, ssh and file protocols allowed.
func gitEnv(environ []string) []string {
	out := make([]string, 0, len(environ)+6)
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GIT_") || k == "GCM_INTERACTIVE" || k == "SSH_ASKPASS" {
			continue
		}
		out = append(out, kv)
	}
	out = withPath(out)
	return append(out,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ALLOW_PROTOCOL=https:ssh:file",
		"GIT_SSH_COMMAND=ssh -o BatchMode=yes",
		"GCM_INTERACTIVE=never",
		"GIT_CONFIG_NOSYSTEM=1",
	)
}

// git runs git with args and returns its trimmed stdout; stderr goes to
// logw and, on failure, into the error.
func git(ctx context.Context, environ []string, logw io.Writer, args ...string) (string, error) {
	out, err := gitRaw(ctx, environ, logw, args...)
	return strings.TrimSpace(out), err
}

// gitRaw is git without the trimming, for output that is a list of
// NUL-terminated paths (a path may begin or end with a blank).
func gitRaw(ctx context.Context, environ []string, logw io.Writer, args ...string) (string, error) {
	var stdout strings.Builder
	var stderr strings.Builder
	cmd := commandContext(ctx, "git", args...)
	cmd.Env = gitEnv(environ)
	cmd.Stdout = &stdout
	cmd.Stderr = io.MultiWriter(&stderr, logw)
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		sub := gitSubcommand(args)
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("git is not installed: %w", err)
		}
		if msg != "" {
			return "", fmt.Errorf("git %s: %w: %s", sub, err, lastLine(msg))
		}
		return "", fmt.Errorf("git %s: %w", sub, err)
	}
	return stdout.String(), nil
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// fetchGit clones the repository into bp, checks out ref.Rev (a branch, tag
// or commit) detached, and drops .git. It returns the commit.
func fetchGit(ctx context.Context, ref Ref, bp string, opts FetchOptions, logw io.Writer) (string, error) {
	if strings.HasPrefix(ref.URL, "-") || strings.HasPrefix(ref.Path, "-") || strings.HasPrefix(ref.Rev, "-") {
		return "", fmt.Errorf("git reference %q starts with \"-\": refused", ref.Raw)
	}
	if ref.Rev != "" {
		if err := checkRev(ref.Raw, ref.Rev); err != nil {
			return "", err
		}
	}
	src := ref.URL
	if src == "" {
		p, err := filepath.Abs(ref.Path)
		if err != nil {
			return "", err
		}
		src = p
	}
	if strings.HasPrefix(src, "-") || strings.HasPrefix(ref.Rev, "-") {
		return "", fmt.Errorf("git reference %q starts with \"-\": refused", ref.Raw)
	}
	if _, err := git(ctx, opts.Environ, logw, "-c", "core.hooksPath=/dev/null", "clone", "--quiet", "--template=", "--no-checkout", "--", src, bp); err != nil {
		return "", err
	}
	var commit string
	if ref.Rev == "" {
		c, err := git(ctx, opts.Environ, logw, "-C", bp, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
		if err != nil {
			return "", fmt.Errorf("the repository has no default branch to check out: %w", err)
		}
		commit = c
	} else {
		for _, cand := range []string{"refs/remotes/origin/" + ref.Rev, "refs/tags/" + ref.Rev, ref.Rev} {
			c, err := git(ctx, opts.Environ, io.Discard, "-C", bp, "rev-parse", "--verify", "--quiet", "--end-of-options", cand+"^{commit}")
			if err == nil && c != "" {
				commit = c
				break
			}
		}
		if commit == "" {
			return "", fmt.Errorf("no branch, tag or commit %q in %s", ref.Rev, src)
		}
	}
	if _, err := git(ctx, opts.Environ, logw, "-C", bp, "-c", "advice.detachedHead=false", "-c", "core.hooksPath=/dev/null", "checkout", "--quiet", "--detach", commit, "--"); err != nil {
		return "", err
	}
	if err := os.RemoveAll(filepath.Join(bp, ".git")); err != nil {
		return "", err
	}
	return commit, nil
}

// gitSubcommand names the git command in args, skipping "-c X" and "-C X".
func gitSubcommand(args []string) string {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-c" || a == "-C":
			i++
		case !strings.HasPrefix(a, "-"):
			return a
		}
	}
	return ""
}
