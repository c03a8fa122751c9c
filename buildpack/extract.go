package buildpack

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// DefaultMaxBytes bounds a buildpack download and the total size of the
// files extracted from it.
const DefaultMaxBytes = 512 << 20

// maxEntries bounds the number of entries in a buildpack tarball.
const maxEntries = 100_000

// extractTar extracts the tar stream r (gzip-compressed or not; sniffed from
// its first bytes) into the existing, empty directory dest. The whole
// tarball is refused, with an error naming the entry, when an entry is
// absolute, has a ".." component, is a symlink or hardlink leading outside
// dest, is a regular file with setuid or setgid, is a device node or FIFO,
// or when the files add up to more than maxBytes, a hardlink counting as a
// copy of its target (the buildpack is copied, links and all, into every
// build). Everything is created
// through an os.Root, so nothing is ever written outside dest, not even
// through a symlink created by an earlier entry. Modes are reduced to
// 0755/0644.
func extractTar(r io.Reader, dest string, maxBytes int64) error {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("reading gzip header: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return err
	}
	defer root.Close()

	tr := tar.NewReader(src)
	var total int64
	var links []string
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading tarball: %w", err)
		}
		if n >= maxEntries {
			return fmt.Errorf("tarball has more than %d entries: refused", maxEntries)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		name, err := entryName(hdr.Name)
		if err != nil {
			return err
		}
		if name == "." {
			continue
		}
		refuse := func(why string) error { return fmt.Errorf("tarball entry %q: %s: refused", hdr.Name, why) }
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return refuse(err.Error())
			}
		case tar.TypeReg: // tar.Reader turns the legacy '\x00' type into TypeReg or TypeDir
			if hdr.Mode&(0o4000|0o2000) != 0 {
				return refuse("setuid/setgid bit set")
			}
			if hdr.Size < 0 || hdr.Size > maxBytes-total {
				return fmt.Errorf("tarball expands to more than %d bytes (entry %q): refused", maxBytes, hdr.Name)
			}
			total += hdr.Size
			if err := makeParent(root, name); err != nil {
				return refuse(err.Error())
			}
			perm := fs.FileMode(0o644)
			if hdr.Mode&0o111 != 0 {
				perm = 0o755
			}
			f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
			if err != nil {
				return refuse(err.Error())
			}
			_, err = io.CopyN(f, tr, hdr.Size)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("tarball entry %q: %w", hdr.Name, err)
			}
			// OpenFile applies the umask; set the intended mode.
			if err := root.Chmod(name, perm); err != nil {
				return err
			}
		case tar.TypeSymlink:
			target := hdr.Linkname
			if target == "" || path.IsAbs(target) {
				return refuse(fmt.Sprintf("symlink to absolute path %q", target))
			}
			if !filepath.IsLocal(path.Join(path.Dir(name), target)) {
				return refuse(fmt.Sprintf("symlink to %q leads outside the buildpack", target))
			}
			if err := makeParent(root, name); err != nil {
				return refuse(err.Error())
			}
			if err := root.Symlink(target, name); err != nil {
				return refuse(err.Error())
			}
			links = append(links, name)
		case tar.TypeLink:
			target, err := entryName(hdr.Linkname)
			if err != nil || target == "." {
				return refuse(fmt.Sprintf("hardlink to %q leads outside the buildpack", hdr.Linkname))
			}
			fi, err := root.Lstat(target)
			if err != nil || !fi.Mode().IsRegular() {
				return refuse(fmt.Sprintf("hardlink to %q, which is not a file extracted earlier", hdr.Linkname))
			}
			// A link costs nothing here, but each one becomes a full copy
			// when the buildpack is copied for a build: count it as one.
			if fi.Size() > maxBytes-total {
				return fmt.Errorf("tarball expands to more than %d bytes (entry %q, a hardlink to %q counted as a copy of it): refused", maxBytes, hdr.Name, hdr.Linkname)
			}
			total += fi.Size()
			if err := makeParent(root, name); err != nil {
				return refuse(err.Error())
			}
			if err := root.Link(target, name); err != nil {
				return refuse(err.Error())
			}
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return refuse("device nodes and FIFOs are not allowed")
		default:
			return refuse(fmt.Sprintf("unsupported entry type %q", hdr.Typeflag))
		}
	}
	// A chain of symlinks can lead out even when each one alone looks
	// local (a -> ., b -> a/..); the root refuses to follow those.
	for _, l := range links {
		if _, err := root.Stat(l); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("tarball entry %q: symlink leads outside the buildpack: refused", l)
		}
	}
	return nil
}

// entryName validates a tar entry name and returns it cleaned.
func entryName(n string) (string, error) {
	if n == "" {
		return "", errors.New("tarball entry with an empty name: refused")
	}
	if strings.HasPrefix(n, "/") {
		return "", fmt.Errorf("tarball entry %q: absolute path: refused", n)
	}
	for _, seg := range strings.Split(n, "/") {
		if seg == ".." {
			return "", fmt.Errorf("tarball entry %q: \"..\" in path: refused", n)
		}
	}
	if strings.ContainsRune(n, 0) {
		return "", fmt.Errorf("tarball entry %q: NUL in name: refused", n)
	}
	c := path.Clean(n)
	if c != "." && !filepath.IsLocal(c) {
		return "", fmt.Errorf("tarball entry %q: not a local path: refused", n)
	}
	return c, nil
}

// makeParent creates the parent directories of name and removes whatever
// already exists at name (duplicate entries: the later one wins).
func makeParent(root *os.Root, name string) error {
	if d := path.Dir(name); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// buildpackRoot returns the directory inside an extracted tree that holds
// bin/: dir itself, or its only subdirectory (GitHub archive tarballs put
// everything under "repo-ref/").
func buildpackRoot(dir string) string {
	if fi, err := os.Stat(filepath.Join(dir, "bin")); err == nil && fi.IsDir() {
		return dir
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 1 || !ents[0].IsDir() {
		return dir
	}
	sub := filepath.Join(dir, ents[0].Name())
	if fi, err := os.Stat(filepath.Join(sub, "bin")); err == nil && fi.IsDir() {
		return sub
	}
	return dir
}
