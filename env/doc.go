// Package env parses .env files and builds the explicit environment each
// child process gets. It never reads or changes ganger's own environment:
// callers pass the inherited environment in (os.Environ()) and take back an
// Env value, rendered with Environ() into exec.Cmd.Env.
//
// It owns the .env grammar of ../shared/docs/formats.md §2: "export "
// prefixes, blanks around "=", "KEY: value", literal single quotes, double
// quotes with \n \r \t \\ \" \$ escapes, multi-line quoted values, '#'
// starting a comment only after whitespace, and $VAR, ${VAR}, ${VAR:-x},
// ${VAR-x} expanded from this file so far, then earlier files, then the
// inherited environment. $(...) is never run. Bad lines are errors naming
// FILE:LINE.
//
// Precedence, lowest first: the inherited environment, the env files in the
// order given (a later file wins), what ganger sets (PORT, PS, DYNO). Each
// value remembers its source so "ganger env" can show it.
//
// godotenv is kept in the tests only, as a differential oracle over the
// inputs where both must agree.
package env
