package runner

import (
	"sync"
	"sync/atomic"
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
