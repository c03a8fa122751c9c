package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// ManifestName is the file, in the export directory, that records which
// files each export (one app in one format) wrote and their sha256. It is
// mode 0600: the hash of a short env file is a guessable secret. It holds
// JSON but has no .json extension, so that "kubectl apply -f DIR" does not
// take it for an object.
const ManifestName = ".ganger-export.manifest"

const manifestVersion = 1

type manifest struct {
	Version int             `json:"version"`
	Exports []manifestEntry `json:"exports"`
}

type manifestEntry struct {
	Format string         `json:"format"`
	App    string         `json:"app"`
	Files  []manifestFile `json:"files"`
	Dirs   []string       `json:"dirs,omitempty"` // directories the export created
}

type manifestFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// ErrConflict is what errors.Is finds in the error of a Write that refused
// to touch files ganger did not write.
var ErrConflict = errors.New("export would replace files ganger did not write")

// Conflict is one file Write refused to touch.
type Conflict struct {
	Path   string // relative to the export directory
	Reason string
	Force  bool // whether Options.Force would overwrite or remove it
}

// ConflictError lists every file Write refused to touch. Nothing was
// written.
type ConflictError struct {
	Dir   string
	Files []Conflict
}

func (e *ConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "refusing to write the export into %s, nothing was written:", e.Dir)
	force := true
	for _, c := range e.Files {
		fmt.Fprintf(&b, "\n\t%s: %s", c.Path, c.Reason)
		force = force && c.Force
	}
	if force {
		b.WriteString("\nmove them away, or pass --force to overwrite them")
	} else {
		b.WriteString("\nremove or rename them (--force never writes through a symlink or replaces a directory)")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Write renders the export of app in format into dir and writes it.
//
// Every file is rendered, and every destination checked, before anything is
// written. A destination that exists is replaced only when an earlier export
// of the same app and format wrote it and nobody changed it since, or when
// it already holds exactly the new content; anything else is a
// *ConflictError unless opt.Force. Files that export wrote and no longer
// produces are removed under the same rule. A symlink or a directory in the
// way is always a conflict. Each file is written to a temporary file in its
// directory, synced, given its mode, and renamed into place.
func Write(format, dir string, app App, opt Options) (Result, error) {
	f, err := lookup(format)
	if err != nil {
		return Result{}, err
	}
	app, err = prepare(f, app)
	if err != nil {
		return Result{}, fmt.Errorf("export %s: %w", format, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Result{}, fmt.Errorf("export %s: %w", format, err)
	}
	r, err := render(f, abs, app, opt)
	if err != nil {
		return Result{}, fmt.Errorf("export %s: %w", format, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return Result{}, fmt.Errorf("export %s: %w", format, err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return Result{}, fmt.Errorf("export %s: %w", format, err)
	}
	defer root.Close()

	man, err := readManifest(root)
	if err != nil {
		return Result{}, fmt.Errorf("export %s: %w", format, err)
	}
	p, err := makePlan(root, man, r, opt.Force)
	if err != nil {
		return Result{}, err
	}
	res := Result{Dir: abs, Notes: r.notes}
	if err := p.apply(root, &res); err != nil {
		return res, fmt.Errorf("export %s: %w; fix the cause and re-run the export to finish it", format, err)
	}
	return res, nil
}

func readManifest(root *os.Root) (*manifest, error) {
	m := &manifest{Version: manifestVersion}
	switch k, err := lstatKind(root, ManifestName); {
	case err != nil:
		return nil, err
	case k == absent:
		return m, nil
	case k != regular:
		return nil, fmt.Errorf("%s is not a regular file (a symlink?); remove it", filepath.Join(root.Name(), ManifestName))
	}
	b, err := root.ReadFile(ManifestName)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("%s is corrupt (%v); remove it, and ganger will treat the files here as not its own", filepath.Join(root.Name(), ManifestName), err)
	}
	if m.Version != manifestVersion {
		return nil, fmt.Errorf("%s has version %d, which this ganger does not know; use a newer ganger", filepath.Join(root.Name(), ManifestName), m.Version)
	}
	return m, nil
}

// plan is everything Write will do, decided before it does any of it.
type plan struct {
	man     *manifest
	entry   manifestEntry // the new entry for this export
	mkdirs  []string      // to create, parents first
	chmods  map[string]fs.FileMode
	files   []outFile
	remove  []string // stale files
	rmdirs  []string // stale directories, removed when empty
	steal   map[string]bool
	touched map[string]bool // directories to sync
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func makePlan(root *os.Root, man *manifest, r *renderer, force bool) (*plan, error) {
	p := &plan{
		man:     man,
		entry:   manifestEntry{Format: r.f.name, App: r.app.Name},
		chmods:  map[string]fs.FileMode{},
		files:   r.files,
		steal:   map[string]bool{},
		touched: map[string]bool{".": true},
	}
	// Who owns what, by the manifest.
	type owner struct {
		entry *manifestEntry
		hash  string
	}
	owners := map[string]owner{}
	var mine *manifestEntry
	for i := range man.Exports {
		e := &man.Exports[i]
		if e.Format == r.f.name && e.App == r.app.Name {
			mine = e
		}
		for _, f := range e.Files {
			owners[f.Path] = owner{e, strings.ToLower(f.SHA256)}
		}
	}
	oldDirs := map[string]bool{}
	if mine != nil {
		for _, d := range mine.Dirs {
			oldDirs[d] = true
		}
	}

	var conflicts []Conflict
	conflict := func(path, reason string, forcible bool) {
		if forcible && force {
			return
		}
		conflicts = append(conflicts, Conflict{Path: path, Reason: reason, Force: forcible})
	}

	// Directories, parents first.
	need := map[string]bool{}
	for _, f := range r.files {
		for d := path.Dir(f.path); d != "."; d = path.Dir(d) {
			need[d] = true
		}
	}
	for d := range r.dirs {
		need[d] = true
	}
	dirs := slices.Collect(maps.Keys(need))
	slices.SortFunc(dirs, func(a, b string) int {
		if c := strings.Count(a, "/") - strings.Count(b, "/"); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	blocked := map[string]bool{}
	for _, d := range dirs {
		if blocked[path.Dir(d)] {
			blocked[d] = true
			continue
		}
		switch k, err := lstatKind(root, d); {
		case err != nil:
			return nil, err
		case k == absent:
			p.mkdirs = append(p.mkdirs, d)
			p.entry.Dirs = append(p.entry.Dirs, d)
		case k == symlink:
			conflict(d, "is a symlink where the export needs a directory", false)
			blocked[d] = true
		case k != directory:
			conflict(d, "is a file where the export needs a directory", false)
			blocked[d] = true
		default:
			if oldDirs[d] {
				p.entry.Dirs = append(p.entry.Dirs, d)
			}
		}
		if m, ok := r.dirs[d]; ok {
			p.chmods[d] = m
		}
	}

	// Files.
	newPaths := map[string]bool{}
	for _, f := range r.files {
		newPaths[f.path] = true
		p.touched[path.Dir(f.path)] = true
		p.entry.Files = append(p.entry.Files, manifestFile{Path: f.path, SHA256: sha(f.data)})
		if blocked[path.Dir(f.path)] {
			continue
		}
		switch k, err := lstatKind(root, f.path); {
		case err != nil:
			return nil, err
		case k == absent:
			continue
		case k == symlink:
			conflict(f.path, "is a symlink; ganger never writes through one", false)
			continue
		case k != regular:
			conflict(f.path, "is not a regular file", false)
			continue
		}
		cur, err := hashFile(root, f.path)
		if err != nil {
			return nil, err
		}
		o, owned := owners[f.path]
		switch {
		case cur == sha(f.data):
			// Already what we would write: nothing is lost.
		case !owned:
			conflict(f.path, "exists and was not written by ganger", true)
		case o.hash != cur:
			conflict(f.path, "was changed since ganger wrote it", true)
		case o.entry != mine:
			conflict(f.path, fmt.Sprintf("belongs to the %s export of %s", o.entry.Format, o.entry.App), true)
		}
		if owned && o.entry != mine {
			p.steal[f.path] = true
		}
	}

	// Files of the previous export of this app that are no longer produced.
	if mine != nil {
		for _, f := range mine.Files {
			if newPaths[f.Path] {
				continue
			}
			switch k, err := lstatKind(root, f.Path); {
			case err != nil:
				return nil, err
			case k == absent:
				continue
			case k == symlink:
				conflict(f.Path, "is no longer exported but is now a symlink", true)
			case k != regular:
				conflict(f.Path, "is no longer exported but is now not a regular file", false)
				continue
			default:
				cur, err := hashFile(root, f.Path)
				if err != nil {
					return nil, err
				}
				if cur != strings.ToLower(f.SHA256) {
					conflict(f.Path, "is no longer exported but was changed since ganger wrote it", true)
				}
			}
			p.remove = append(p.remove, f.Path)
			p.touched[path.Dir(f.Path)] = true
		}
		for _, d := range mine.Dirs {
			if !need[d] {
				p.rmdirs = append(p.rmdirs, d)
			}
		}
		slices.SortFunc(p.rmdirs, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	}

	if len(conflicts) > 0 {
		return nil, &ConflictError{Dir: root.Name(), Files: conflicts}
	}
	return p, nil
}

// kind is what stands at a path, as lstat(2) sees it: a symlink is never
// followed.
type kind int

const (
	absent kind = iota
	symlink
	directory
	regular
	special // a device, a pipe, a socket
)

// lstatKind says what stands at name in root. A name that does not exist is
// absent, not an error.
func lstatKind(root *os.Root, name string) (kind, error) {
	fi, err := root.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return absent, nil
	case err != nil:
		return special, err
	case fi.Mode()&fs.ModeSymlink != 0:
		return symlink, nil
	case fi.IsDir():
		return directory, nil
	case fi.Mode().IsRegular():
		return regular, nil
	}
	return special, nil
}

func hashFile(root *os.Root, name string) (string, error) {
	f, err := root.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (p *plan) apply(root *os.Root, res *Result) error {
	for _, d := range p.mkdirs {
		if err := root.Mkdir(d, 0o700); err != nil {
			return err
		}
	}
	for _, d := range p.mkdirs {
		mode, ok := p.chmods[d]
		if !ok {
			mode = 0o755
		}
		if err := root.Chmod(d, mode); err != nil {
			return err
		}
	}
	for d, mode := range p.chmods { // tighten existing ones too
		if err := root.Chmod(d, mode); err != nil {
			return err
		}
	}
	for _, f := range p.files {
		if err := writeAtomic(root, f.path, f.data, f.mode, owner(f, res)); err != nil {
			return err
		}
		res.Written = append(res.Written, f.path)
	}
	for _, name := range p.remove {
		if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		res.Removed = append(res.Removed, name)
	}
	for _, d := range p.rmdirs {
		switch err := root.Remove(d); {
		case err == nil:
			p.touched[path.Dir(d)] = true
		case errors.Is(err, fs.ErrNotExist):
		case errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST):
			res.Notes = append(res.Notes, fmt.Sprintf("%s is no longer exported but holds files ganger did not write (runsv's supervise/?); remove it yourself", d))
		default:
			return err
		}
	}

	// The manifest: this export's entry replaced, stolen files dropped
	// from the entries that had them.
	var exports []manifestEntry
	for _, e := range p.man.Exports {
		if e.Format == p.entry.Format && e.App == p.entry.App {
			continue
		}
		e.Files = slices.DeleteFunc(e.Files, func(f manifestFile) bool { return p.steal[f.Path] })
		exports = append(exports, e)
	}
	exports = append(exports, p.entry)
	slices.SortFunc(exports, func(a, b manifestEntry) int {
		if c := strings.Compare(a.App, b.App); c != 0 {
			return c
		}
		return strings.Compare(a.Format, b.Format)
	})
	b, err := json.MarshalIndent(manifest{Version: manifestVersion, Exports: exports}, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(root, ManifestName, append(b, '\n'), 0o600, nil); err != nil {
		return err
	}

	for d := range p.touched {
		if err := syncDir(root, d); err != nil {
			return err
		}
	}
	slices.Sort(res.Written)
	slices.Sort(res.Removed)
	return nil
}

// chown is a uid and gid to give a file.
type chown struct{ uid, gid int }

// owner decides whether f should be given to its owner user: only when we
// run as root and can look the user up; otherwise it adds a note.
func owner(f outFile, res *Result) *chown {
	if f.owner == "" {
		return nil
	}
	u, err := user.Lookup(f.owner)
	if os.Geteuid() != 0 {
		if err == nil && strconv.Itoa(os.Geteuid()) == u.Uid {
			return nil
		}
		res.Notes = append(res.Notes, fmt.Sprintf("%s is readable by you only, but its processes run as %s: run the export as root, or chown it to %s", f.path, f.owner, f.owner))
		return nil
	}
	if err != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("%s stays owned by root, as user %s is unknown here (%v): chown it to %s where it is used", f.path, f.owner, err, f.owner))
		return nil
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		res.Notes = append(res.Notes, fmt.Sprintf("%s stays owned by root: user %s has no numeric uid", f.path, f.owner))
		return nil
	}
	return &chown{uid, gid}
}

// writeAtomic writes data to name through a temporary file in the same
// directory: created exclusively (so never through a symlink), synced,
// given mode (and owner), then renamed over name. rename(2) replaces a
// symlink at name rather than following it.
func writeAtomic(root *os.Root, name string, data []byte, mode fs.FileMode, own *chown) (err error) {
	dir, base := path.Split(name)
	var f *os.File
	var tmp string
	for range 10 {
		// O_EXCL makes the name safe, and the random part need only be
		// unpredictable enough to make collisions rare: math/rand's
		// generator is seeded from the kernel, and unlike crypto/rand it
		// links no code that every start of ganger would initialise.
		tmp = dir + "." + base + ".tmp-" + strconv.FormatUint(rand.Uint64()&(1<<48-1), 36)
		f, err = root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			root.Remove(tmp)
		}
	}()
	if _, err = io.Copy(f, bytes.NewReader(data)); err != nil {
		return err
	}
	if own != nil {
		if err = f.Chown(own.uid, own.gid); err != nil {
			return err
		}
	}
	if err = f.Chmod(mode); err != nil { // exact, whatever the umask
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return root.Rename(tmp, name)
}

func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // removed as stale
	}
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
