package main

import (
	"strings"

	"github.com/gangerdev/ganger/buildpack"
	"github.com/gangerdev/ganger/procfile"
)

// slugCommand is the one shell line that runs a Procfile command from the
// slug as a dyno does (buildpack.ProcessCommand): HOME is the slug, which is
// the working directory every format sets (App.Root on the host, the image's
// work directory in containers), and the profile is sourced first. The
// formats need one line, so the profile script is joined into one.
func slugCommand(command string) string {
	argv := buildpack.ProcessCommand(command)
	argv[2] = oneLine(argv[2])
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i] = shQuote(a)
	}
	return `export HOME="$PWD" && exec ` + strings.Join(words, " ")
}

// oneLine joins a shell script's lines: with "; " after a complete command,
// with a blank after a word that must be followed by more (do, then, &&,
// ...). It is meant for buildpack's profile script, a list of simple
// commands and loops without multi-line quotes or here-documents; a test
// runs both forms and compares them.
func oneLine(script string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if b.Len() > 0 {
			if continues(b.String()) {
				b.WriteByte(' ')
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(line)
	}
	return b.String()
}

// continues reports whether s ends where a command list cannot: after a
// reserved word that opens a body, an operator or a separator.
func continues(s string) bool {
	for _, end := range []string{"&&", "||", "|", ";", "{", "("} {
		if strings.HasSuffix(s, end) {
			return true
		}
	}
	fields := strings.Fields(s)
	switch fields[len(fields)-1] {
	case "do", "then", "else", "elif", "in":
		return true
	}
	return false
}

// shQuote quotes s as one POSIX sh word.
// shQuote quotes s as one POSIX sh word.
func shQuote(s string) string { return procfile.ShellQuote(s) }
