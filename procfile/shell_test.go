package procfile

import (
	"os/exec"
	"slices"
	"testing"
)

func TestShellArgv(t *testing.T) {
	tests := []struct {
		command string
		simple  bool
	}{
		// One program with arguments and redirections: exec'd.
		{"web", true},
		{"bundle exec rails server -p $PORT", true},
		{"./bin/worker --queue=default", true},
		{"  node server.js  ", true},
		{"web > log.txt 2> err.txt", true},
		{`echo "a b" 'c d'`, true},
		{"env FOO=1 web", true},
		{"python -m http.server $PORT", true},
		// Anything compound keeps its shell.
		{"", false},
		{"   ", false},
		{"a; b", false},
		{"a && b", false},
		{"a || b", false},
		{"a | b", false},
		{"a &", false},
		{"(a)", false},
		{"{ a; }", false},
		{"echo `date`", false},
		{"echo $(date)", false},
		{"a \\\n b", false},
		{"a\nb", false},
		{"a\rb", false},
		{"FOO=1 web", false},
		{"$APP_CMD --flag", false},
		{"<input web", false},
		{`"my prog" arg`, false},
		{`echo "unbalanced`, false},
		{`echo it's`, false},
		{"python -c 'print(1)'", false},
		{"if true; then web; fi", false},
		{"while true", false},
		{"exec web", false}, // already exec'd: never "exec exec"
		{"cd app", false},
		{"export A=1", false},
		{"source env.sh", false},
		{". env.sh", false},
		{"trap '' TERM", false},
		{"time web", false},
		{"! web", false},
		{"true", false},
		{":", false},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			if got := isSimpleCommand(tt.command); got != tt.simple {
				t.Errorf("isSimpleCommand(%q) = %v, want %v", tt.command, got, tt.simple)
			}
			want := []string{"/bin/sh", "-c", tt.command}
			if tt.simple {
				want[2] = "exec " + tt.command
			}
			if got := ShellArgv(tt.command); !slices.Equal(got, want) {
				t.Errorf("ShellArgv(%q) = %q, want %q", tt.command, got, want)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	for _, s := range []string{"", "a b", "it's", "'", "$HOME `x` \\ \"q\"", "a\nb"} {
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+ShellQuote(s)).Output()
		if err != nil {
			t.Fatalf("sh: %v", err)
		}
		if string(out) != s {
			t.Errorf("ShellQuote(%q) read back as %q", s, out)
		}
	}
}
