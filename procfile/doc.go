// Package procfile parses Procfiles and turns them into the instances ganger
// runs: the formation (how many of each type) and the PORT of each instance.
//
// It owns the Procfile grammar. It is stricter than foreman, forego and
// goreman, which skip a line they cannot read: a line that is not an entry,
// a comment or blank is an error here, so a typo or a merge-conflict marker
// cannot silently drop a process. The rules:
//
//   - an entry is NAME ":" COMMAND, NAME matching [A-Za-z0-9_-]+; blanks are
//     allowed before the name and around the colon ("web : cmd"); the line is
//     split at the first colon and the command is kept verbatim, trailing
//     blanks trimmed;
//   - "\r\n" and a lone "\r" both end a line; a leading UTF-8 BOM is dropped;
//     blank lines and lines whose first non-blank character is '#' are skipped;
//     lines have no length limit, but a command does: it reaches the shell as
//     one argument, so it holds no NUL byte and is at most MaxCommand
//     (131066) bytes, Linux's 128 KiB per argument less the terminating NUL
//     and the "exec " ShellArgv may put before it;
//   - any other line, an empty command, a command with a NUL byte or over
//     MaxCommand, and a duplicate name are errors naming PATH:LINE, so that
//     "ganger check" refuses what "ganger start" could not run. Parse reports
//     every error, not only the first. A '#' after the colon is part of the
//     command, for the shell to decide.
//
// The formation and port rules are pure functions: PORT = base + 100 × the
// entry's index in the Procfile + (instance − 1), so ports stay stable when
// types are filtered or scaled to zero. The "release" type is parsed but left
// out of the default set.
//
// This package imports nothing but the standard library.
package procfile
