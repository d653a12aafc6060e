package sessions

import "sync"

// buffer is a pooled byte slice for building cookie values and headers on
// the request path without allocating.
type buffer struct{ B []byte }

var bufferPool = sync.Pool{New: func() any { return &buffer{B: make([]byte, 0, 512)} }}

func getBuffer() *buffer { return bufferPool.Get().(*buffer) }

// putBuffer returns b to the pool unless it grew past what a session cookie
// needs, so that one huge value does not pin memory forever.
func putBuffer(b *buffer) {
	if cap(b.B) > 64<<10 {
		return
	}
	b.B = b.B[:0]
	bufferPool.Put(b)
}
