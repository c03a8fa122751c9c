package runner

import (
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// bufPool holds the small read buffers of one run. A process's reader takes
// one only when data is waiting and gives it back once every byte is handed
// on, so fifty quiet processes share a few buffers instead of holding one
// each.
type bufPool struct {
	p    sync.Pool
	held atomic.Int32 // buffers taken and not yet given back
}

func (bp *bufPool) get() []byte {
	bp.held.Add(1)
	if b, ok := bp.p.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, minRead)
}

// put takes back a buffer from get. Any other (a grown one) is not the
// pool's and is left to the GC.
func (bp *bufPool) put(b []byte) {
	if len(b) != minRead {
		return
	}
	bp.held.Add(-1)
	bp.p.Put(&b)
}

// pooledRead waits, without a buffer, until f has data, then reads it into a
// buffer from bp. It returns the buffer (nil with an error before any read),
// the bytes read, and io.EOF at the end. It needs f in Go's poller (os.Pipe's
// ends are): the wait is the poller's, the read a non-blocking one.
func pooledRead(f *os.File, bp *bufPool) func() ([]byte, int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	return func() ([]byte, int, error) {
		var (
			buf  []byte
			n    int
			rerr error
		)
		err := rc.Read(func(fd uintptr) bool {
			b := bp.get()
			for {
				n, rerr = syscall.Read(int(fd), b)
				if !errors.Is(rerr, syscall.EINTR) {
					break
				}
			}
			if errors.Is(rerr, syscall.EAGAIN) {
				bp.put(b)
				return false // nothing yet: wait in the poller
			}
			buf = b
			return true
		})
		switch {
		case err != nil:
			return buf, 0, err
		case rerr != nil:
			return buf, 0, &os.PathError{Op: "read", Path: f.Name(), Err: rerr}
		case n == 0:
			return buf, 0, io.EOF
		}
		return buf, n, nil
	}
}
