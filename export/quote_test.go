package export

import (
	"encoding/xml"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/gangerdev/ganger/env"
	"github.com/gangerdev/ganger/procfile"
	"sigs.k8s.io/yaml"
)

// quoteSeeds are values every quoting must round-trip.
var quoteSeeds = []string{
	"", "plain", " lead", "trail ", "a\nb", "a\r\nb", "\n", `\`, `\\`, `\n`, `"`, `'`, `\"`, `\'`,
	"$", "$$", "${X}", "$X", "$(X)", "\\$X", "%", "%%", "%i", "%(ENV_X)s", "`", "\\`", "#", " #", ";", " ;",
	"a=b", "\t", "héllo ✓", "<&>", "]]>", "--", "\u2028", "\x7f",
}

func FuzzSystemdEnvValue(f *testing.F) {
	for _, s := range quoteSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return // rejected before quoting
		}
		got, err := parseSystemdEnvFile("K=" + systemdEnvValue(v) + "\n")
		if err != nil || got["K"] != v || len(got) != 1 {
			t.Fatalf("systemd reads %q back as %q (%v)", v, got, err)
		}
	})
}

// FuzzComposeEnvValue checks that compose-go reads env.DoubleQuote, which
// writes Compose env_file values, back unchanged.
func FuzzComposeEnvValue(f *testing.F) {
	for _, s := range quoteSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return
		}
		src := "K=" + env.DoubleQuote(v) + "\nNEXT=1\n"
		got, err := dotenv.ParseWithLookup(strings.NewReader(src), func(k string) (string, bool) { return "LOOKED-UP", true })
		if err != nil || got["K"] != v || got["NEXT"] != "1" {
			t.Fatalf("compose-go reads %q back as %q (%v) from\n%s", v, got["K"], err, src)
		}
	})
}

func FuzzJSONString(f *testing.F) {
	for _, s := range quoteSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		q, err := jsonString(v)
		if !utf8.ValidString(v) {
			if err == nil {
				t.Fatalf("invalid UTF-8 %q accepted", v)
			}
			return
		}
		var got struct{ K string }
		if err := yaml.UnmarshalStrict([]byte("k: "+q+"\n"), &got); err != nil || got.K != v {
			t.Fatalf("YAML reads %s back as %q (%v)", q, got.K, err)
		}
	})
}

func FuzzXMLText(f *testing.F) {
	for _, s := range quoteSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		q, err := xmlText(v)
		if err != nil {
			return // a character XML cannot hold: refused, never mangled
		}
		var got struct {
			S string `xml:"string"`
		}
		if err := xml.Unmarshal([]byte("<d><string>"+q+"</string></d>"), &got); err != nil || got.S != v {
			t.Fatalf("XML reads %s back as %q (%v)", q, got.S, err)
		}
	})
}

func TestXMLRefusesControlCharacters(t *testing.T) {
	for _, v := range []string{"\x1b[31m", "a\x00b", "\x08", "\xff"} {
		if _, err := xmlText(v); err == nil {
			t.Errorf("xmlText(%q) accepted a character XML 1.0 cannot hold", v)
		}
	}
}

// TestShQuote runs each quoted seed through /bin/sh: procfile.ShellQuote is
// the template function shQuote and quotes supervisord's env file.
func TestShQuote(t *testing.T) {
	var script strings.Builder
	for _, s := range quoteSeeds {
		script.WriteString("printf '%s\\000' " + procfile.ShellQuote(s) + "\n")
	}
	out, err := exec.Command("/bin/sh", "-c", script.String()).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(string(out), "\x00")
	for i, s := range quoteSeeds {
		if got[i] != s {
			t.Errorf("sh reads %s back as %q, want %q", procfile.ShellQuote(s), got[i], s)
		}
	}
}

// TestSupervisorArg runs each quoted seed through what supervisord does to
// a command= line (see supervisorPy): the INI reader, '%' expansion and
// shlex.split.
func TestSupervisorArg(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	var conf strings.Builder
	conf.WriteString("[program:x]\nprocess_name=x\ncommand=")
	var want []string
	for _, s := range quoteSeeds {
		if strings.ContainsAny(s, "\n\r\x7f") {
			continue // commands are one line of printable text
		}
		q, err := supervisorArg(s)
		if err != nil {
			t.Fatal(err)
		}
		conf.WriteString(q + " ")
		want = append(want, s)
	}
	conf.WriteString("; a comment\n")
	dir := t.TempDir()
	writeFile(t, dir, "x.conf", conf.String())
	writeFile(t, dir, "s.py", supervisorPy)
	out, err := exec.Command(python, dir+"/s.py", dir+"/x.conf").Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, errOutput(err))
	}
	var procs []supervisorProcess
	if err := jsonUnmarshal(out, &procs); err != nil || len(procs) != 1 {
		t.Fatalf("%v: %s", err, out)
	}
	got := procs[0].Argv
	if len(got) != len(want) {
		t.Fatalf("supervisord splits the line into\n%q\nwant\n%q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("supervisord reads %q back as %q", want[i], got[i])
		}
	}
}

func TestRunitEnvFile(t *testing.T) {
	for _, v := range []string{"a", "a\nb", "\n", "x\n", " lead", "a\tb", `\`} {
		b, err := runitEnvFile("K", v)
		if err != nil {
			t.Fatal(err)
		}
		// chpst.c edir(): first line, trailing blanks stripped, NUL as newline.
		line, _, _ := strings.Cut(string(b), "\n")
		line = strings.TrimRight(line, " \t")
		if got := strings.ReplaceAll(line, "\x00", "\n"); got != v {
			t.Errorf("chpst reads %q back as %q", v, got)
		}
	}
	for _, v := range []string{"a ", "a\t"} {
		if _, err := runitEnvFile("K", v); err == nil {
			t.Errorf("%q accepted, but chpst would strip its end", v)
		}
	}
}

func TestDNSLabel(t *testing.T) {
	for in, want := range map[string]string{"My_App.v2": "my-app-v2", "-x-": "x", "web": "web"} {
		if got := dnsLabel(in); got != want {
			t.Errorf("dnsLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
