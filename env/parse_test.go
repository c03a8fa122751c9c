package env_test

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/gangerdev/ganger/env"
)

// parseCase is one input and either the variables it defines or the exact
// error text Parse returns for it (name ".env").
type parseCase struct {
	name   string
	in     string
	lookup map[string]string
	want   map[string]string
	err    string
}

// e is shorthand for a one-line error at .env:LINE.
func e(line, msg string) string { return ".env:" + line + ": " + msg }

const keyHint = "; keys are letters, digits, '_' and '.', followed by '=' or ':'"

// parseCases covers each rule of the grammar in the package doc, and the
// inputs where godotenv reads otherwise.
var parseCases = []parseCase{
	// key chars
	{name: "key chars", in: "A_b.9=1\n1X=2\n_=3\n", want: map[string]string{"A_b.9": "1", "1X": "2", "_": "3"}},
	{name: "inner space in key", in: "A=1\n\nMY KEY=1\n", err: e("3", `invalid key "MY": unexpected text at column 4`+keyHint)},
	{name: "dash in key", in: "my-key=1", err: e("1", "invalid key at column 3"+keyHint)},
	{name: "non-ASCII key", in: "clé=1", err: e("1", "invalid key at column 3"+keyHint)},
	{name: "column counts characters", in: "éé-=1", err: e("1", "invalid key at column 1"+keyHint)},
	{name: "column after blanks", in: "\t  ab%=1", err: e("1", "invalid key at column 6"+keyHint)},
	{name: "bad key quoted value skipped", in: "MY KEY=\"a\nb c\"\nmy-key='x\ny z'\nD=1", err: e("1", `invalid key "MY": unexpected text at column 4`+keyHint) + "\n" + e("3", "invalid key at column 3"+keyHint)},
	{name: "missing key", in: "=1", err: e("1", "missing key before '=' at column 1: write KEY=value")},
	{name: "missing key colon", in: " : 1", err: e("1", "missing key before ':' at column 2: write KEY=value")},
	{name: "merge conflict junk", in: "<<<<<<< HEAD\nA=1\n=======\n", err: e("1", "invalid key at column 1: this looks like a merge conflict marker; resolve the conflict") + "\n" +
		e("3", "invalid key at column 1: this looks like a merge conflict marker; resolve the conflict")},
	{name: "long key clipped", in: strings.Repeat("x", 70) + " y=1",
		err: e("1", `invalid key "`+strings.Repeat("x", 64)+`"...: unexpected text at column 72`+keyHint)},

	// export prefix
	{name: "export", in: "export A=1\nexport\tB=2\nexport   C = 3", want: map[string]string{"A": "1", "B": "2", "C": "3"}},
	{name: "export as key", in: "export=1", want: map[string]string{"export": "1"}},
	{name: "export as key spaced", in: "export = 1", want: map[string]string{"export": "1"}},
	{name: "export as key colon", in: "export: 1", want: map[string]string{"export": "1"}},
	{name: "exportX is a key", in: "exportX=1", want: map[string]string{"exportX": "1"}},
	{name: "export bad key", in: "export MY-KEY=1", err: e("1", "invalid key at column 10"+keyHint)},

	// blanks around =, KEY: value
	{name: "blanks around =", in: "A = 1\nB\t=\t2\n  C=3", want: map[string]string{"A": "1", "B": "2", "C": "3"}},
	{name: "colon", in: "A: 1\nB:2\nC : 3", want: map[string]string{"A": "1", "B": "2", "C": "3"}},
	{name: "colon value with colons", in: "URL: http://x:1/", want: map[string]string{"URL": "http://x:1/"}},
	{name: "equals in value", in: "A=b=c", want: map[string]string{"A": "b=c"}},

	// KEY=, KEY= # c
	{name: "empty", in: "A=\nB=   \nC=", want: map[string]string{"A": "", "B": "", "C": ""}},
	{name: "empty with comment", in: "A= # c\nB=\t# c\nC: # c", want: map[string]string{"A": "", "B": "", "C": ""}},

	// bare KEY
	{name: "bare key", in: "KEY", want: map[string]string{}},
	{name: "bare key then more", in: "KEY\nexport OTHER\nKEY2 # comment\nexport\nA=1", want: map[string]string{"A": "1"}},
	{name: "bare key not inherited", in: "HOME", lookup: map[string]string{"HOME": "/h"}, want: map[string]string{}},
	{name: "bare bad key", in: "my-key", err: e("1", "invalid key at column 3"+keyHint)},

	// comments
	{name: "comment lines", in: "# c\n  # indented\n\n\t\nA=1 # c\n", want: map[string]string{"A": "1"}},
	{name: "comment after tab", in: "A=1\t# c", want: map[string]string{"A": "1"}},
	{name: "hash without blank", in: "A=1#c\nC=#fff\nU=http://x/#frag", want: map[string]string{"A": "1#c", "C": "#fff", "U": "http://x/#frag"}},
	{name: "first comment wins", in: "A=a #b #c", want: map[string]string{"A": "a"}},
	{name: "unquoted trimmed", in: "A=  a b  \t", want: map[string]string{"A": "a b"}},

	// single quotes
	{name: "single literal", in: `A='x # y $B \n \'`, want: map[string]string{"A": `x # y $B \n \`}},
	{name: "single multiline", in: "A='a\nb'\nB=2", want: map[string]string{"A": "a\nb", "B": "2"}},
	{name: "single empty", in: "A=''", want: map[string]string{"A": ""}},
	{name: "single with comment", in: "A='x' # c\nB='y'#c", want: map[string]string{"A": "x", "B": "y"}},
	{name: "single then text", in: "A='it''s'", err: e("1", `unexpected text at column 7 after the closing quote of "A": quote the whole value`)},

	// double quotes
	{name: "double escapes", in: `A="a\nb\rc\td\\e\"f\$g"`, want: map[string]string{"A": "a\nb\rc\td\\e\"f$g"}},
	{name: "double unknown escape", in: `A="\q C:\Users \0"`, want: map[string]string{"A": `\q C:\Users \0`}},
	{name: "double ends in escaped quote", in: `A="say \"hi\""`, want: map[string]string{"A": `say "hi"`}},
	{name: "double ends in backslash", in: `A="dir\\"`, want: map[string]string{"A": `dir\`}},
	{name: "double multiline", in: "A=\"a\nb\"\nB=2", want: map[string]string{"A": "a\nb", "B": "2"}},
	{name: "double empty", in: `A=""`, want: map[string]string{"A": ""}},
	{name: "double hash", in: `A="a # b" # c`, want: map[string]string{"A": "a # b"}},
	{name: "double then text", in: `A="x"y`, err: e("1", `unexpected text at column 6 after the closing quote of "A": quote the whole value`)},
	{name: "text after multiline quote", in: "A=\"x\ny\" z", err: e("2", `unexpected text at column 4 after the closing quote of "A": quote the whole value`)},
	{name: "quote inside unquoted", in: `A=x"y"`, want: map[string]string{"A": `x"y"`}},
	{name: "backticks literal", in: "A=`x`\nB=`$(id)`", want: map[string]string{"A": "`x`", "B": "`$(id)`"}},

	// unterminated quotes
	{name: "unterminated double", in: "A=1\nB=\"abc\nC=2\n", err: e("2", `unterminated double quote in the value of "B" (opened at column 3): add the closing "`)},
	{name: "unterminated single", in: "A='abc", err: e("1", `unterminated single quote in the value of "A" (opened at column 3): add the closing '`)},
	{name: "unterminated escaped", in: `A="abc\"`, err: e("1", `unterminated double quote in the value of "A" (opened at column 3): add the closing "`)},

	// unquoted backslashes
	{name: "unquoted backslashes", in: `A=C:\Users\x\n`, want: map[string]string{"A": `C:\Users\x\n`}},
	{name: "unquoted trailing backslash", in: `A=x\`, want: map[string]string{"A": `x\`}},

	// duplicates, line endings, BOM
	{name: "duplicate last wins", in: "A=1\nA=2", want: map[string]string{"A": "2"}},
	{name: "CRLF", in: "A=1\r\nB='x\r\ny'\r\nC=\"p\r\nq\"\r\n", want: map[string]string{"A": "1", "B": "x\ny", "C": "p\nq"}},
	{name: "lone CR", in: "A=1\rB=2\r", want: map[string]string{"A": "1", "B": "2"}},
	{name: "BOM", in: "\ufeffA=1", want: map[string]string{"A": "1"}},
	{name: "no final newline", in: "A=1\nB=2", want: map[string]string{"A": "1", "B": "2"}},
	{name: "long line", in: "A=" + strings.Repeat("x", 200<<10), want: map[string]string{"A": strings.Repeat("x", 200<<10)}},

	// expansion
	{name: "expand from file", in: "A=x\nB=$A/${A}\nC=\"$A\"\nD='$A'", want: map[string]string{"A": "x", "B": "x/x", "C": "x", "D": "$A"}},
	{name: "expand from lookup", in: "P=/x:$PATH\nH=${HOME}", lookup: map[string]string{"PATH": "/bin", "HOME": "/h"},
		want: map[string]string{"P": "/x:/bin", "H": "/h"}},
	{name: "file before lookup", in: "HOME=/f\nH=$HOME", lookup: map[string]string{"HOME": "/h"}, want: map[string]string{"HOME": "/f", "H": "/f"}},
	{name: "only earlier keys", in: "A=$B\nB=1", lookup: map[string]string{"B": "shell"}, want: map[string]string{"A": "shell", "B": "1"}},
	{name: "undefined empty", in: "A=[$NOPE][${NOPE}]", want: map[string]string{"A": "[][]"}},
	{name: "lowercase and mixed names", in: "lower=l\nMixed_Case=m\nA=$lower$Mixed_Case", want: map[string]string{"lower": "l", "Mixed_Case": "m", "A": "lm"}},
	{name: "name ends at non-name char", in: "A=x\nB=$A.b-$A:c", want: map[string]string{"A": "x", "B": "x.b-x:c"}},
	{name: "dollar literal", in: "A=xTvDqw$27\nB=$$\nC=$\nD=$ x\nE=a$-b\nF=\"$\"", want: map[string]string{"A": "xTvDqw$27", "B": "$", "C": "$", "D": "$ x", "E": "a$-b", "F": "$"}},
	{name: "double dollar is one dollar", in: "A=pa$$word\nB=\"pa$$word\"\nC='pa$$word'\nD=$$$$\nE=$$$\nF=${X:-$$}", want: map[string]string{"A": "pa$word", "B": "pa$word", "C": "pa$$word", "D": "$$", "E": "$$", "F": "$"}},
	{name: "double dollar before name", in: "A=$$HOME$$$HOME\nB=\"$${HOME}\"\nC=\\$$HOME", lookup: map[string]string{"HOME": "/h"}, want: map[string]string{"A": "$HOME$/h", "B": "${HOME}", "C": "$/h"}},
	{name: "command substitution literal", in: "A=$(whoami)\nB=$(UPPER)\nC=\"$(id)\"", want: map[string]string{"A": "$(whoami)", "B": "$(UPPER)", "C": "$(id)"}},
	{name: "escaped dollar", in: `A=\$B` + "\n" + `C="\$B"` + "\n" + `D='\$B'` + "\n" + `E=\\$B`, lookup: map[string]string{"B": "b"},
		want: map[string]string{"A": "$B", "C": "$B", "D": `\$B`, "E": `\$B`}},
	{name: "double backslash then var", in: `A="\\$B"`, lookup: map[string]string{"B": "b"}, want: map[string]string{"A": `\b`}},
	{name: "default colon", in: "E=\nA=${U:-d}\nB=${E:-d}\nC=${S:-d}", lookup: map[string]string{"S": "s"},
		want: map[string]string{"E": "", "A": "d", "B": "d", "C": "s"}},
	{name: "default dash", in: "E=\nA=${U-d}\nB=${E-d}\nC=${S-d}", lookup: map[string]string{"S": "s"},
		want: map[string]string{"E": "", "A": "d", "B": "", "C": "s"}},
	{name: "default expands", in: "Y=y\nA=${X:-$Y}\nB=${X:-${Z:-z}-${Y}}\nC=\"${X:-a b\\tc}\"\nD=${X:-}", want: map[string]string{"Y": "y", "A": "y", "B": "z-y", "C": "a b\tc", "D": ""}},
	{name: "default in single quotes literal", in: "A='${X:-d}'", want: map[string]string{"A": "${X:-d}"}},
	{name: "escaped brace start", in: `A=\${X:-d}`, want: map[string]string{"A": "${X:-d}"}},
	{name: "unterminated brace", in: "A=ok\nB=${X", err: e("2", `unterminated "${" at column 3 in the value of "B": add the closing "}"`)},
	{name: "unterminated default", in: "A=${X:-${Y}", err: e("1", `unterminated "${" at column 3 in the value of "A": add the closing "}"`)},
	{name: "bad name digit", in: "A=${1X}", err: e("1", badName("3", "A"))},
	{name: "bad name empty", in: "A=${}", err: e("1", badName("3", "A"))},
	{name: "bad name space", in: "A=\"${A B}\"", err: e("1", badName("4", "A"))},
	{name: "unsupported operator", in: "A=${X:?missing}", err: e("1", unsupported("3", "A"))},
	{name: "unsupported plus", in: "A=${X+y}", err: e("1", unsupported("3", "A"))},
	{name: "error line inside multiline value", in: "A=\"one\ntwo ${\"\nB=1", err: e("2", `unterminated "${" at column 5 in the value of "A": add the closing "}"`)},
	{name: "nesting limit", in: "A=" + strings.Repeat("${X:-", 17) + strings.Repeat("}", 17), err: e("1", `expansion nested more than 16 deep at column 83 in the value of "A"`)},
	{name: "nesting within limit", in: "A=" + strings.Repeat("${X:-", 16) + "d" + strings.Repeat("}", 16), want: map[string]string{"A": "d"}},

	// several errors, all reported; a NUL byte
	{name: "all errors", in: "A B=1\nC=ok\nD=\"x\"y\nE=${",
		err: e("1", `invalid key "A": unexpected text at column 3`+keyHint) + "\n" +
			e("3", `unexpected text at column 6 after the closing quote of "D": quote the whole value`) + "\n" +
			e("4", `unterminated "${" at column 3 in the value of "E": add the closing "}"`)},
	{name: "NUL byte in a value", in: "A=1\nB=\x00", err: e("2", `value of "B" holds a NUL byte at column 3: programs cannot receive one, remove it`)},
	{name: "NUL byte in a default", in: "A=${X:-\x00}", err: e("1", `value of "A" holds a NUL byte at column 8: programs cannot receive one, remove it`)},
	{name: "NUL byte in a comment", in: "A=1 # c\x00\n# \x00", err: e("1", "NUL byte at column 8: is it a binary file?") + "\n" + e("2", "NUL byte at column 3: is it a binary file?")},
	{name: "NUL byte in a key", in: "A\x00=1\n\x00", err: e("1", "NUL byte at column 2: is it a binary file?") + "\n" + e("2", "NUL byte at column 1: is it a binary file?")},
	{name: "NUL byte after a quote", in: `A="x"` + "\x00", err: e("1", `unexpected text at column 6 after the closing quote of "A": quote the whole value`) + "\n" + e("1", "NUL byte at column 6: is it a binary file?")},
	{name: "NUL byte in the value of a bad key", in: "MY-KEY=a\x00b", err: e("1", "invalid key at column 3"+keyHint) + "\n" + e("1", "NUL byte at column 9: is it a binary file?")},
}

// badName and unsupported are the errors of a bad ${...} at column col in
// the value of key.
func badName(col, key string) string {
	return `bad variable name after "${" at column ` + col + ` in the value of "` + key + `": names are letters, digits and '_', not starting with a digit; write \$ for a literal '$'`
}

func unsupported(col, key string) string {
	return `unsupported expansion at column ` + col + ` in the value of "` + key + `": use ${NAME}, ${NAME:-default} or ${NAME-default}; write \$ for a literal '$'`
}

func mapLookup(m map[string]string) func(string) (string, bool) {
	if m == nil {
		return nil
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func toMap(vars []env.Var) map[string]string {
	m := make(map[string]string, len(vars))
	for _, v := range vars {
		m[v.Key] = v.Value
	}
	return m
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			vars, err := env.Parse(strings.NewReader(tc.in), ".env", mapLookup(tc.lookup))
			if tc.err != "" {
				if err == nil {
					t.Fatalf("Parse(%q) = %q, want error %q", tc.in, toMap(vars), tc.err)
				}
				if err.Error() != tc.err {
					t.Fatalf("Parse(%q) error:\n got %s\nwant %s", tc.in, err, tc.err)
				}
				if vars != nil {
					t.Errorf("Parse returned vars %v with an error", vars)
				}
				checkLineErrors(t, err)
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got := toMap(vars); !maps.Equal(got, tc.want) {
				t.Errorf("Parse(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			for _, v := range vars {
				if v.Source != ".env" {
					t.Errorf("%s: source %q, want .env", v.Key, v.Source)
				}
			}
		})
	}
}

// checkLineErrors asserts that err joins only *LineError values.
func checkLineErrors(t *testing.T, err error) {
	t.Helper()
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T is not an errors.Join", err)
	}
	for _, one := range joined.Unwrap() {
		var le *env.LineError
		if !errors.As(one, &le) {
			t.Errorf("error %q is %T, not *LineError", one, one)
		}
	}
}

func TestParseLinesAndOrder(t *testing.T) {
	in := "\n# c\nA=1\nB=\"two\nlines\"\nexport C='x'\n\nA=3\nD=${A}\n"
	vars, err := env.Parse(strings.NewReader(in), "f.env", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []env.Var{
		{Key: "A", Value: "3", Source: "f.env", Line: 8},
		{Key: "B", Value: "two\nlines", Source: "f.env", Line: 4},
		{Key: "C", Value: "x", Source: "f.env", Line: 6},
		{Key: "D", Value: "3", Source: "f.env", Line: 9},
	}
	if len(vars) != len(want) {
		t.Fatalf("got %v, want %v", vars, want)
	}
	for i := range want {
		if vars[i] != want[i] {
			t.Errorf("var %d = %+v, want %+v", i, vars[i], want[i])
		}
	}
}

func TestParseLimits(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	tests := []struct {
		name, in, err string
	}{
		{"value over 1 MiB", "A=1\nB=" + big + "x\n", e("2", `value of "B" is too large (1048577 bytes; the limit is 1 MiB)`)},
		{"expansion over 1 MiB", "A=" + big[:600<<10] + "\nB=$A$A\n", e("2", `value of "B" expands to more than 1 MiB`)},
		{"file over 16 MiB", strings.Repeat("# padding\n", 16<<20/10+1), ".env: file is larger than 16 MiB; is it really an env file?"},
		{"too many variables", func() string {
			var b strings.Builder
			for i := range 1<<17 + 1 {
				fmt.Fprintf(&b, "V%d=\n", i)
			}
			return b.String()
		}(), e("131073", "more than 131072 variables; no program could receive them all")},
		{"total over 16 MiB", "A=" + big[:1000<<10] + "\n" + strings.Repeat("B=$A\n", 17), e("17", "values expand to more than 16 MiB in total")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := env.Parse(strings.NewReader(tc.in), ".env", nil)
			if err == nil || err.Error() != tc.err {
				t.Fatalf("got error %v, want %s", err, tc.err)
			}
			checkLineErrors(t, err)
		})
	}
	// Exactly 1 MiB is fine.
	vars, err := env.Parse(strings.NewReader("A="+big), ".env", nil)
	if err != nil || len(vars[0].Value) != 1<<20 {
		t.Fatalf("1 MiB value: %v", err)
	}
}

func TestParseTooManyErrors(t *testing.T) {
	in := strings.Repeat("bad line\n", 30)
	_, err := env.Parse(strings.NewReader(in), ".env", nil)
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 21 || lines[20] != e("21", "too many errors") || lines[0] != e("1", `invalid key "bad": unexpected text at column 5`+keyHint) {
		t.Fatalf("got %d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := env.Parse(failReader{boom}, "x.env", nil)
	if !errors.Is(err, boom) || err.Error() != "x.env: boom" {
		t.Fatalf("got %v", err)
	}
}

type failReader struct{ err error }

func (r failReader) Read([]byte) (int, error) { return 0, r.err }

func TestLineError(t *testing.T) {
	for _, tc := range []struct {
		e    env.LineError
		want string
	}{
		{env.LineError{Path: ".env", Line: 3, Msg: "m"}, ".env:3: m"},
		{env.LineError{Path: ".env", Msg: "m"}, ".env: m"},
		{env.LineError{Line: 3, Msg: "m"}, "line 3: m"},
		{env.LineError{Msg: "m"}, "m"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}

// marker stands for a secret in a value. No error may hold it.
const marker = "hunter2"

// secretCases are bad lines with a secret where a value goes. Each error
// names the line, the key and the column, and never the secret.
var secretCases = []parseCase{
	{name: "key then value without =", in: "SECRET_KEY hunter2",
		err: e("1", `invalid key "SECRET_KEY": unexpected text at column 12`+keyHint)},
	{name: "bad key then value", in: "MY-KEY hunter2=1\nMY KEY=hunter2",
		err: e("1", "invalid key at column 3"+keyHint) + "\n" + e("2", `invalid key "MY": unexpected text at column 4`+keyHint)},
	{name: "continuation of an unquoted multi-line secret", in: "PEM=-----BEGIN\nhunter2+abc/def==\n-----END\n",
		err: e("2", "invalid key at column 8"+keyHint) + "\n" + e("3", "invalid key at column 1"+keyHint)},
	{name: "text after a double quote", in: `K="a"hunter2`,
		err: e("1", `unexpected text at column 6 after the closing quote of "K": quote the whole value`)},
	{name: "text after a single quote", in: "K: 'a' hunter2",
		err: e("1", `unexpected text at column 8 after the closing quote of "K": quote the whole value`)},
	{name: "text after a quote of a bad key", in: `MY-KEY="a"hunter2`,
		err: e("1", "invalid key at column 3"+keyHint) + "\n" + e("1", "unexpected text at column 11 after a closing quote: quote the whole value")},
	{name: "unterminated quote", in: `K="hunter2`,
		err: e("1", `unterminated double quote in the value of "K" (opened at column 3): add the closing "`)},
	{name: "unterminated quote of a bad key", in: `MY-KEY='hunter2`,
		err: e("1", "invalid key at column 3"+keyHint) + "\n" + e("1", `unterminated single quote (opened at column 8): add the closing '`)},
	{name: "required-value message", in: "K=${X:?hunter2}",
		err: e("1", `unsupported expansion at column 3 in the value of "K": use ${NAME}, ${NAME:-default} or ${NAME-default}; write \$ for a literal '$'`)},
	{name: "alternative value", in: `K="x ${X:+hunter2}"`,
		err: e("1", `unsupported expansion at column 6 in the value of "K": use ${NAME}, ${NAME:-default} or ${NAME-default}; write \$ for a literal '$'`)},
	{name: "unterminated brace", in: "K=pa${hunter2",
		err: e("1", `unterminated "${" at column 5 in the value of "K": add the closing "}"`)},
	{name: "bad name", in: "K=${hunter2 x}",
		err: e("1", `bad variable name after "${" at column 3 in the value of "K": names are letters, digits and '_', not starting with a digit; write \$ for a literal '$'`)},
	{name: "bad name digit", in: "K=${1hunter2}",
		err: e("1", `bad variable name after "${" at column 3 in the value of "K": names are letters, digits and '_', not starting with a digit; write \$ for a literal '$'`)},
	{name: "bad name in a default", in: "K=${X:-hunter2${!}}",
		err: e("1", `bad variable name after "${" at column 15 in the value of "K": names are letters, digits and '_', not starting with a digit; write \$ for a literal '$'`)},
	{name: "multi-line value", in: "K=\"hunter2\nsecond ${hunter2\"",
		err: e("2", `unterminated "${" at column 8 in the value of "K": add the closing "}"`)},
	{name: "nesting", in: "K=hunter2" + strings.Repeat("${X:-", 17) + strings.Repeat("}", 17),
		err: e("1", `expansion nested more than 16 deep at column 90 in the value of "K"`)},
	{name: "NUL in a value", in: "K=hunter2\x00hunter2",
		err: e("1", `value of "K" holds a NUL byte at column 10: programs cannot receive one, remove it`)},
	{name: "NUL in a quoted value", in: "A=1\nK='hunter2\nhunter2\x00'",
		err: e("3", `value of "K" holds a NUL byte at column 8: programs cannot receive one, remove it`)},
	{name: "missing key", in: "=hunter2",
		err: e("1", "missing key before '=' at column 1: write KEY=value")},
	{name: "value too large", in: "K=" + marker + strings.Repeat("x", 1<<20),
		err: e("1", `value of "K" is too large (1048583 bytes; the limit is 1 MiB)`)},
}

func TestParseErrorsHideValues(t *testing.T) {
	for _, tc := range secretCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := env.Parse(strings.NewReader(tc.in), ".env", nil)
			if err == nil {
				t.Fatalf("Parse(%.60q) succeeded, want an error", tc.in)
			}
			if strings.Contains(err.Error(), marker) {
				t.Errorf("Parse(%.60q) error shows the value:\n%s", tc.in, err)
			}
			if err.Error() != tc.err {
				t.Errorf("Parse(%.60q) error:\n got %s\nwant %s", tc.in, err, tc.err)
			}
			checkLineErrors(t, err)
		})
	}
}
