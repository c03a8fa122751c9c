// Package gitignore is ganger's one implementation of gitignore-syntax
// patterns, shared by the file watcher (runner/watch) and the builder
// (buildpack), which may not import each other.
//
// It owns:
//
//   - parsing pattern lines as gitignore(5) reads them (ParseLine, Parse):
//     "#" comments and blank lines, trailing blanks dropped unless escaped,
//     "!" negation, a "/" at the start or in the middle anchoring the
//     pattern at the directory of its file, a trailing "/" matching
//     directories only, "*", "?", "[a-z]", "[!a-z]" and "\x" within one
//     path segment, and "**" as a whole segment matching any number of
//     segments (a trailing "/**" everything inside, not the directory
//     itself). Options holds the one rule .slugignore reads differently.
//   - matching slash-separated relative paths against them: one pattern
//     (Pattern.Match), a list of them where the last match wins (Apply),
//     and the lists of a tree's directories applied as git applies its
//     .gitignore files, a deeper one winning (Cascade).
//   - the glob matcher both need (CompileGlob, Glob.Match): a pattern of
//     slash-separated segments anchored at the root, "**" matching zero or
//     more whole segments, in time linear in the pattern times the path
//     whatever the number of "**".
//
// It reads no files: callers hand it the bytes of a .gitignore and the
// paths to decide, and say what a warning looks like. It imports the
// standard library only.
package gitignore
