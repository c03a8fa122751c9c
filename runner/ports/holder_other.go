//go:build !linux

package ports

// Holder names the process listening on port. Only Linux is supported
// (through /proc); elsewhere it returns "" and the error says only that the
// port is in use (lsof -iTCP:PORT -sTCP:LISTEN shows who holds it).
func Holder(port int) string { return "" }
