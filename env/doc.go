// Package env parses .env files and builds the explicit environment each
// child process gets. It never reads or changes ganger's own environment:
// callers pass the inherited environment in (os.Environ()) and take back an
// Env value, rendered with Environ() into exec.Cmd.Env.
//
// It owns the .env grammar: "export " prefixes, blanks around "=",
// "KEY: value", literal single quotes, double quotes with \n \r \t \\ \"
// \$ escapes, multi-line quoted values, '#' starting a comment only after
// whitespace (so colours, URL fragments and generated secrets holding a '#'
// survive unquoted), and $VAR, ${VAR}, ${VAR:-x}, ${VAR-x} expanded from
// this file so far, then earlier files, then the inherited environment.
// $(...) is never run. Bad lines are errors naming FILE:LINE, the key and
// the column.
//
// An error never quotes a value, since env files hold secrets and errors
// end up in terminals, CI logs and bug reports. A bad key is quoted only
// when it is a well-formed key followed by other text ("SECRET_KEY hunter2"
// names "SECRET_KEY", "MY KEY=1" names "MY"); otherwise the error gives the
// column of the first character a key cannot hold, since the line may be
// part of a value (the second line of an unquoted certificate). Text after
// a closing quote, a bad ${...} and a NUL byte are shown by column only.
// (A line of prose left out of its quotes still shows its first word when
// that word looks like a key: quote multi-line values.)
//
// The details, where peers disagree:
//
//   - A leading UTF-8 BOM is dropped. "\r\n" and a lone "\r" end a line,
//     inside quotes too (a quoted value never holds a raw CR; write \r in
//     double quotes). There is no line-length limit. A NUL byte is an
//     error; in a value, the error names the key (no program could receive
//     the value).
//   - Keys are ASCII [A-Za-z0-9_.]+; anything else ("MY KEY", "my-key") is an
//     error. "export" followed by a blank is a prefix, unless
//     "=" or ":" follows it ("export=1" sets "export").
//   - A line holding only a key ("KEY" or "export KEY") is a no-op: it
//     neither sets nor unsets KEY nor is an error (compose reads it as
//     "inherit", which is what already happens).
//   - "KEY=" and "KEY= # comment" are "". An unquoted value is trimmed; '#'
//     starts a comment only after a space or tab ("C=#fff" is "#fff");
//     backslashes are literal except that \$ is a literal '$'.
//   - In double quotes an unknown escape such as \q is kept as is, backslash
//     included. After a closing quote only blanks and a comment may follow;
//     other text is an error. An unterminated quote is an error naming the
//     line where the quote opened.
//   - Names after '$' are [A-Za-z_][A-Za-z0-9_]*. A '$' followed by anything
//     else is literal: "$27", "$(cmd)", a trailing "$". "$$" is one literal
//     '$', as in docker compose, unquoted and in double quotes (single
//     quotes keep both): "pa$$word" is "pa$word" and "$$HOME" is "$HOME",
//     never the shell's PID. \$ is a literal '$' too. (godotenv and Ruby
//     dotenv keep a "$$" that no name follows and read "$$HOME" as '$' and
//     HOME's value; foreman does not expand at all.) ${VAR:-x} is x when VAR is unset or
//     empty, ${VAR-x} only when unset; x may hold expansions. A malformed
//     ${...} (no closing brace, a bad name, another operator such as :? or
//     :+) is an error. Undefined variables expand to "".
//   - A duplicate key: the last definition wins.
//   - Limits: a value over 1 MiB after expansion, a file over 16 MiB, or
//     values of one file expanding to more than 16 MiB together are errors,
//     and so are more than 131072 keys in one file (no program could receive
//     them). Parse stops after 20 errors.
//
// Quote writes a value the way Parse reads it back, for code that writes
// env files.
//
// Precedence, lowest first: the inherited environment, the env files in the
// order given (a later file wins), what ganger sets (PORT, PS, DYNO). Each
// value remembers its source so "ganger env" can show it; IsSecret and Mask
// decide what is hidden when shown.
//
// IsSecret looks at the words of a key, so KEYBOARD_LAYOUT, PATH and
// PASSENGER_* stay visible. A key is split into words at '_', '-', '.' and
// any other character that is not an ASCII letter or digit, at case changes
// (apiKey, APIKey) and between letters and digits; case does not matter.
// Its value is masked when a word holds SECRET, TOKEN, PASSWORD, PASSWD,
// PASSPHRASE or CREDENTIAL; when a word ends in KEY or KEYS (API_KEY,
// APIKEY); when a word is PASS, PWD, SK, PRIVATE, PEM, CERT, SALT or DSN
// (DB_PASS, STRIPE_SK, PRIVATE_PEM); when the last word is AUTH, SESSION,
// COOKIE or SIGNATURE (AUTH, REDIS_AUTH, WEBHOOK_SIGNATURE, but not
// SSH_AUTH_SOCK or XDG_SESSION_TYPE, where the word only qualifies the
// next); and under any key, the password of a URL (scheme://user:pass@host,
// masked alone). PWD alone is the shell's working directory, not a secret.
// Masking errs towards hiding ("ganger env --reveal" shows everything).
//
// CheckExec catches, by key and never by value, an environment that execve
// would refuse with E2BIG; CheckEntries reports every such problem, each
// variable read from a file as FILE:LINE, so that a check finds before a
// start what the start would refuse. (Parse allows values up to 1 MiB,
// beyond the 128 KiB a program can receive, because a later file may still
// replace them.)
//
// godotenv is kept in the tests only, as a differential oracle over the
// inputs where both must agree. The tests also pin each input godotenv
// v1.5.1 reads differently (differCases in godotenv_test.go): among them
// "A= # c" read as "# c", \t read as t, no ${VAR:-x}, no lookup in the
// inherited environment, and a BOM or a bare key refused.
package env
