package env_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/gangerdev/ganger/env"
	"github.com/joho/godotenv"
)

// agreeInputs are in the common subset: ganger and godotenv v1.5.1 must
// read them the same.
var agreeInputs = []string{
	"A=1",
	"A=1\nB=2\n",
	"A=1\r\nB=2\r\n",
	"A=1\rB=2",
	"export A=1\nexport B='x y'",
	"exportA=1",
	"export=1",
	"A = 1\nB\t=\t2",
	"A: 1\nB:2",
	"URL: http://x:1/p",
	"A=\nB=",
	"# comment\n\n  # indented\nA=1",
	"A=1 # comment\nB=2\t# tab comment",
	"A=a#b\nC=#notacomment\nU=http://h/#frag",
	"A=  spaced out  ",
	"A=b=c",
	"A='single # not a comment'",
	"A='$B \\n literal'",
	"A='multi\nline'",
	"A='multi\r\nline'",
	`A="double"`,
	`A="a\nb"`,
	`A="a\\b"`,
	`A="a # b" # c`,
	`A="v"#c`,
	"A=\"multi\nline\"",
	`A=""` + "\nB=''",
	"A=it's",
	"A=`backticks`",
	`A=C:\Users\x`,
	"A=x\nB=$A\nC=${A}\nD=\"$A-${A}\"",
	`A=\$B`,
	`A="\$B"`,
	"A=$(whoami)",
	"A=1\nA=2",
	"  A=1\n\tB=2",
	"A.B=1\n_X=2\n9=3",
	"A=x y z\nB=\"quoted\"  \nC='q'\t",
	"A=http://user@host:80/path?q=1&r=2",
}

// differCase is an input where ganger deliberately differs from godotenv
// v1.5.1, as the package doc says.
type differCase struct {
	name   string
	in     string
	lookup map[string]string
	ours   map[string]string // nil: an error
	theirs map[string]string // nil: an error
}

var differCases = []differCase{
	{name: "empty value then comment", in: "A= # c",
		ours: map[string]string{"A": ""}, theirs: map[string]string{"A": "# c"}},
	{name: "tab escape", in: `A="a\tb"`,
		ours: map[string]string{"A": "a\tb"}, theirs: map[string]string{"A": "atb"}},
	{name: "unknown escape", in: `A="\q"`,
		ours: map[string]string{"A": `\q`}, theirs: map[string]string{"A": "q"}},
	{name: "escaped closing quote", in: `A="say \"hi\""`,
		ours: map[string]string{"A": `say "hi"`}, theirs: map[string]string{"A": `say "hi\`}},
	{name: "bare key", in: "KEY\nA=1",
		ours: map[string]string{"A": "1"}, theirs: nil},
	{name: "bare key at EOF", in: "A=1\nKEY",
		ours: map[string]string{"A": "1"}, theirs: map[string]string{"A": "1", "": "KEY"}},
	{name: "inherited variables", in: "H=$HOME\nP=/x:$PATH", lookup: map[string]string{"HOME": "/h", "PATH": "/bin"},
		ours: map[string]string{"H": "/h", "P": "/x:/bin"}, theirs: map[string]string{"H": "", "P": "/x:"}},
	{name: "default", in: "A=${X:-d}",
		ours: map[string]string{"A": "d"}, theirs: map[string]string{"A": ":-d}"}},
	{name: "lowercase name", in: "b=1\nA=$b",
		ours: map[string]string{"b": "1", "A": "1"}, theirs: map[string]string{"b": "1", "A": "$b"}},
	{name: "mixed-case name", in: "A=$Mixed_Case",
		ours: map[string]string{"A": ""}, theirs: map[string]string{"A": "ixed_Case"}},
	{name: "upper command", in: "A=$(UPPER)",
		ours: map[string]string{"A": "$(UPPER)"}, theirs: map[string]string{"A": ")"}},
	{name: "double dollar", in: "A=$$\nB=pa$$word",
		ours: map[string]string{"A": "$", "B": "pa$word"}, theirs: map[string]string{"A": "$$", "B": "pa$$word"}},
	{name: "double dollar before a name", in: "H=/h\nA=$$H",
		ours: map[string]string{"H": "/h", "A": "$H"}, theirs: map[string]string{"H": "/h", "A": "$/h"}},
	{name: "digit after dollar", in: "A=xTvDqw$27",
		ours: map[string]string{"A": "xTvDqw$27"}, theirs: map[string]string{"A": "xTvDqw"}},
	{name: "BOM", in: "\ufeffA=1",
		ours: map[string]string{"A": "1"}, theirs: nil},
	{name: "space in key", in: "MY KEY=1",
		ours: nil, theirs: map[string]string{"MY KEY": "1"}},
	{name: "text after closing quote", in: `A="x"y`,
		ours: nil, theirs: map[string]string{"A": "x", "": "y"}},
	{name: "export with blank key", in: "export = 1",
		ours: map[string]string{"export": "1"}, theirs: map[string]string{"": "1"}},
	{name: "unterminated quote", in: "A=\"x\nB=2",
		ours: nil, theirs: nil},
}

func godotenvParse(in string) (map[string]string, error) {
	return godotenv.Parse(strings.NewReader(in))
}

func TestAgreesWithGodotenv(t *testing.T) {
	for _, in := range agreeInputs {
		vars, err := env.Parse(strings.NewReader(in), ".env", nil)
		if err != nil {
			t.Errorf("ganger Parse(%q): %v", in, err)
			continue
		}
		theirs, err := godotenvParse(in)
		if err != nil {
			t.Errorf("godotenv Parse(%q): %v", in, err)
			continue
		}
		if ours := toMap(vars); !maps.Equal(ours, theirs) {
			t.Errorf("Parse(%q):\n ganger   %q\n godotenv %q", in, ours, theirs)
		}
	}
}

// TestDiffersFromGodotenv pins each documented difference, so that the
// documentation stays true if either side changes.
func TestDiffersFromGodotenv(t *testing.T) {
	for _, tc := range differCases {
		t.Run(tc.name, func(t *testing.T) {
			vars, err := env.Parse(strings.NewReader(tc.in), ".env", mapLookup(tc.lookup))
			switch {
			case tc.ours == nil && err == nil:
				t.Errorf("ganger: %q, want an error", toMap(vars))
			case tc.ours != nil && err != nil:
				t.Errorf("ganger: %v", err)
			case tc.ours != nil && !maps.Equal(toMap(vars), tc.ours):
				t.Errorf("ganger: %q, want %q", toMap(vars), tc.ours)
			}
			theirs, err := godotenvParse(tc.in)
			switch {
			case tc.theirs == nil && err == nil:
				t.Errorf("godotenv: %q, want an error", theirs)
			case tc.theirs != nil && err != nil:
				t.Errorf("godotenv: %v", err)
			case tc.theirs != nil && !maps.Equal(theirs, tc.theirs):
				t.Errorf("godotenv: %q, want %q", theirs, tc.theirs)
			}
		})
	}
}
