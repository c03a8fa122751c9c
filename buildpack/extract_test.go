package buildpack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type tarEntry struct {
	name string
	typ  byte
	body string
	link string
	mode int64
}

func file(name, body string, mode int64) tarEntry {
	return tarEntry{name: name, typ: tar.TypeReg, body: body, mode: mode}
}
func dir(name string) tarEntry { return tarEntry{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, target string) tarEntry {
	return tarEntry{name: name, typ: tar.TypeSymlink, link: target, mode: 0o777}
}
func hardlink(name, target string) tarEntry {
	return tarEntry{name: name, typ: tar.TypeLink, link: target, mode: 0o644}
}

func makeTar(t testing.TB, gz bool, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w = &buf
	var zw *gzip.Writer
	var tw *tar.Writer
	if gz {
		zw = gzip.NewWriter(w)
		tw = tar.NewWriter(zw)
	} else {
		tw = tar.NewWriter(w)
	}
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode, Size: int64(len(e.body)), Format: tar.FormatPAX}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if e.typ == tar.TypeXGlobalHeader {
			h = &tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "x"}, Format: tar.FormatPAX}
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestExtractTarHostile(t *testing.T) {
	tests := []struct {
		name    string
		entries []tarEntry
		max     int64
		err     string
	}{
		{name: "traversal", entries: []tarEntry{file("../evil", "x", 0o644)}, err: `".." in path`},
		{name: "traversal inside", entries: []tarEntry{file("a/../../evil", "x", 0o644)}, err: `".." in path`},
		{name: "dot dot dir", entries: []tarEntry{dir("../")}, err: `".." in path`},
		{name: "absolute", entries: []tarEntry{file("/tmp/evil", "x", 0o644)}, err: "absolute path"},
		{name: "symlink escape", entries: []tarEntry{symlink("bin", "../../../etc")}, err: "leads outside"},
		{name: "symlink absolute", entries: []tarEntry{symlink("bin", "/etc")}, err: "absolute path"},
		{name: "symlink then write through", entries: []tarEntry{symlink("out", ".."), file("out/evil", "x", 0o644)}, err: "leads outside"},
		{name: "symlink chain", entries: []tarEntry{symlink("a", "."), symlink("b", "a/..")}, err: "leads outside"},
		{name: "symlink chain then write", entries: []tarEntry{symlink("a", "."), symlink("b", "a/.."), file("b/evil", "x", 0o644)}, err: "refused"},
		{name: "hardlink outside", entries: []tarEntry{hardlink("h", "../../etc/passwd")}, err: "hardlink"},
		{name: "hardlink absolute", entries: []tarEntry{hardlink("h", "/etc/passwd")}, err: "hardlink"},
		{name: "hardlink missing", entries: []tarEntry{hardlink("h", "nope")}, err: "not a file extracted earlier"},
		{name: "hardlink through symlink", entries: []tarEntry{symlink("a", "."), symlink("b", "a/.."), hardlink("h", "b/x")}, err: "refused"},
		{name: "setuid", entries: []tarEntry{file("bin/compile", "x", 0o4755)}, err: "setuid"},
		{name: "setgid", entries: []tarEntry{file("bin/compile", "x", 0o2755)}, err: "setuid/setgid"},
		{name: "char device", entries: []tarEntry{{name: "dev", typ: tar.TypeChar}}, err: "device"},
		{name: "block device", entries: []tarEntry{{name: "dev", typ: tar.TypeBlock}}, err: "device"},
		{name: "fifo", entries: []tarEntry{{name: "fifo", typ: tar.TypeFifo}}, err: "FIFO"},
		{name: "too big", max: 10, entries: []tarEntry{file("a", "123456", 0o644), file("b", "123456", 0o644)}, err: "more than 10 bytes"},
		{name: "empty name", entries: []tarEntry{file("", "x", 0o644)}, err: "empty name"},
		// Each hardlink is one more copy once the buildpack is copied to
		// the build: 10 links to a 400-byte file are 4000 bytes.
		{name: "hardlink bomb", max: 1000, entries: []tarEntry{file("zero", strings.Repeat("\x00", 400), 0o644),
			hardlink("l1", "zero"), hardlink("l2", "zero"), hardlink("l3", "zero"), hardlink("l4", "zero")}, err: `more than 1000 bytes (entry "l2", a hardlink to "zero"`},
	}
	for _, tc := range tests {
		for _, gz := range []bool{true, false} {
			t.Run(tc.name, func(t *testing.T) {
				outer := t.TempDir()
				dest := filepath.Join(outer, "dest")
				if err := os.Mkdir(dest, 0o755); err != nil {
					t.Fatal(err)
				}
				max := tc.max
				if max == 0 {
					max = 1 << 20
				}
				err := extractTar(bytes.NewReader(makeTar(t, gz, tc.entries...)), dest, max)
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				ents, _ := os.ReadDir(outer)
				if len(ents) != 1 {
					t.Errorf("something was written beside dest: %v", ents)
				}
			})
		}
	}
}

func TestExtractTar(t *testing.T) {
	dest := t.TempDir()
	data := makeTar(t, true,
		tarEntry{typ: tar.TypeXGlobalHeader},
		dir("./"),
		tarEntry{name: "bin/", typ: tar.TypeDir, mode: 0o2775},
		file("./bin/compile", "#!/bin/sh\necho v1\n", 0o775),
		file("bin/detect", "old", 0o755),
		file("bin/detect", "#!/bin/sh\necho X\n", 0o700), // duplicate: later wins
		file("README", "readme", 0o600),
		symlink("bin/release", "compile"),
		symlink("lib/up", "../bin"),
		hardlink("bin/compile2", "bin/compile"),
		file("deep/a/b/c.txt", "c", 0o644),
	)
	if err := extractTar(bytes.NewReader(data), dest, 1<<20); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		path string
		mode os.FileMode
		body string
	}{
		{"bin", os.ModeDir | 0o755, ""},
		{"bin/compile", 0o755, "#!/bin/sh\necho v1\n"},
		{"bin/detect", 0o755, "#!/bin/sh\necho X\n"},
		{"README", 0o644, "readme"},
		{"bin/compile2", 0o755, "#!/bin/sh\necho v1\n"},
		{"deep/a/b/c.txt", 0o644, "c"},
	}
	for _, c := range checks {
		fi, err := os.Lstat(filepath.Join(dest, c.path))
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		if fi.Mode() != c.mode {
			t.Errorf("%s: mode %v, want %v", c.path, fi.Mode(), c.mode)
		}
		if c.body != "" && readFile(t, filepath.Join(dest, c.path)) != c.body {
			t.Errorf("%s: wrong content", c.path)
		}
	}
	if l, err := os.Readlink(filepath.Join(dest, "bin/release")); err != nil || l != "compile" {
		t.Errorf("symlink: %q %v", l, err)
	}
	if fi, err := os.Stat(filepath.Join(dest, "lib/up/compile")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("lib/up/compile through an inside symlink: %v", err)
	}
}

func TestBuildpackRoot(t *testing.T) {
	d := t.TempDir()
	writeFiles(t, d, map[string]string{"repo-v1/bin/compile": "x", "repo-v1/README": ""})
	if got := buildpackRoot(d); got != filepath.Join(d, "repo-v1") {
		t.Errorf("single top dir: %s", got)
	}
	d2 := t.TempDir()
	writeFiles(t, d2, map[string]string{"bin/compile": "x"})
	if got := buildpackRoot(d2); got != d2 {
		t.Errorf("bin at root: %s", got)
	}
}

// FuzzExtractTar: arbitrary bytes never panic and never write outside
// the destination.
func FuzzExtractTar(f *testing.F) {
	f.Add(makeTar(f, false, file("bin/compile", "x", 0o755), symlink("l", "bin")))
	f.Add(makeTar(f, true, dir("a/"), symlink("a/b", ".."), file("a/b/c", "x", 0o644)))
	f.Add(makeTar(f, false, file("../x", "x", 0o644)))
	f.Fuzz(func(t *testing.T, data []byte) {
		outer := t.TempDir()
		dest := filepath.Join(outer, "dest")
		if err := os.Mkdir(dest, 0o755); err != nil {
			t.Fatal(err)
		}
		extractTar(bytes.NewReader(data), dest, 1<<16)
		ents, _ := os.ReadDir(outer)
		if len(ents) != 1 {
			t.Fatalf("wrote beside dest: %v", ents)
		}
	})
}
