package ports

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// Holder names the process listening on TCP port, "pid 42 (ruby)", or the
// user owning the socket when its process cannot be looked into, or "" when
// nothing is found. It reads /proc; whatever it may not read it skips.
func Holder(port int) string {
	var socks []socket
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		socks = append(socks, listening(fh, port)...)
		fh.Close()
	}
	if len(socks) == 0 {
		return ""
	}
	inodes := map[string]bool{}
	for _, s := range socks {
		inodes["socket:["+s.inode+"]"] = true
	}
	if pid, ok := socketOwner(inodes); ok {
		if comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm")); err == nil {
			return fmt.Sprintf("pid %d (%s)", pid, strings.TrimSpace(string(comm)))
		}
		return fmt.Sprintf("pid %d", pid)
	}
	uid := socks[0].uid
	if u, err := user.LookupId(uid); err == nil {
		return fmt.Sprintf("a process of user %s (uid %s)", u.Username, uid)
	}
	return "a process of uid " + uid
}

// socket is one listening socket from /proc/net/tcp.
type socket struct {
	inode string
	uid   string
}

// tcpListen is the state column's value for LISTEN.
const tcpListen = "0A"

// listening reads a /proc/net/tcp or tcp6 table and returns the sockets in
// LISTEN state on port, whatever their address. A line looks like
//
//	0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000  0 123456 1 ...
//
// with the port in hex after the local address, the state in the fourth
// column, the owner's uid in the eighth and the inode in the tenth.
func listening(r io.Reader, port int) []socket {
	var out []socket
	sc := bufio.NewScanner(r)
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != tcpListen {
			continue
		}
		i := strings.LastIndexByte(f[1], ':')
		if i < 0 {
			continue
		}
		p, err := strconv.ParseUint(f[1][i+1:], 16, 16)
		if err != nil || int(p) != port || f[9] == "0" {
			continue
		}
		out = append(out, socket{inode: f[9], uid: f[7]})
	}
	return out
}

// socketOwner finds a process with a descriptor on one of the sockets
// ("socket:[INODE]" links). Processes it may not look into are skipped.
func socketOwner(links map[string]bool) (int, bool) {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join("/proc", p.Name(), "fd")
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if l, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && links[l] {
				return pid, true
			}
		}
	}
	return 0, false
}
