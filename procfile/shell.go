package procfile

import "strings"

// ShellArgv returns the argv that runs a Procfile command with sh, as every
// Procfile runner does. The command is passed untouched, so the shell expands
// $PORT. A simple command (one program with its arguments and redirections) is
// prefixed with "exec" so the shell is replaced by the program: signals reach
// it directly and no idle sh is left per process. Anything compound keeps its
// shell.
func ShellArgv(command string) []string {
	if isSimpleCommand(command) {
		command = "exec " + command
	}
	return []string{"/bin/sh", "-c", command}
}

// shellReserved are the words that open a compound command or are not
// programs that "exec" could run.
var shellReserved = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "fi": true,
	"case": true, "esac": true, "for": true, "while": true, "until": true,
	"do": true, "done": true, "in": true, "function": true, "select": true,
	"!": true, "{": true, "}": true, "[[": true, "]]": true, "time": true,
	"exec": true, "cd": true, "export": true, "set": true, "source": true,
	".": true, "eval": true, "trap": true, "ulimit": true, "umask": true,
	"wait": true, "exit": true, "return": true, "unset": true, "readonly": true,
	"shift": true, "alias": true, "local": true, "declare": true, "typeset": true,
	":": true, "true": true, "false": true,
}

// isSimpleCommand reports whether command is a single simple command that can
// safely be prefixed with "exec". It is conservative: any control operator,
// subshell, command substitution, backslash, quote-spanning construct or
// leading variable assignment makes it answer false, and the command then
// runs as written.
func isSimpleCommand(command string) bool {
	c := strings.TrimSpace(command)
	if c == "" {
		return false
	}
	if strings.ContainsAny(c, ";&|()`\\\n\r{}") || strings.Contains(c, "$(") {
		return false
	}
	// Unbalanced or nested quoting is left to the shell as written.
	if strings.Count(c, "'")%2 != 0 || strings.Count(c, `"`)%2 != 0 {
		return false
	}
	first := c
	if i := strings.IndexAny(c, " \t"); i >= 0 {
		first = c[:i]
	}
	if shellReserved[first] || strings.Contains(first, "=") || strings.ContainsAny(first, `'"$<>`) {
		return false
	}
	return true
}

// ShellQuote quotes s as one POSIX sh word: single quotes keep every byte
// but the single quote itself, which closes the quotes, is written escaped
// (\') and reopens them.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
