package compact

import (
	"maps"
	"sync"
	"sync/atomic"
)

// keys interns the string keys of decoded session maps, boxed in
// interfaces. They are few and come back in every request (the names an
// application gives its session values), and boxing a string into an
// interface costs an allocation each time. The table is a copy-on-write map
// read without locking; it keeps at most 512 keys of at most 64 bytes
// (about 100 KiB) and stops growing when full, so an application with
// unbounded key names only loses the optimization for the keys that come
// after.
var keys struct {
	mu    sync.Mutex // held by writers
	table atomic.Pointer[map[string]any]
}

// intern adds the key b to the table, unless it is too long or the table is
// full, and returns the boxed key the table holds.
func intern(b []byte) (any, bool) {
	if len(b) > 64 {
		return nil, false
	}
	keys.mu.Lock()
	defer keys.mu.Unlock()
	var t map[string]any
	if p := keys.table.Load(); p != nil {
		t = *p
	}
	if k, ok := t[string(b)]; ok || len(t) >= 512 {
		return k, ok
	}
	t = maps.Clone(t)
	if t == nil {
		t = map[string]any{}
	}
	s := string(b) // a copy: the table must not keep the input alive
	t[s] = s
	keys.table.Store(&t)
	return t[s], true
}
