package compact

import (
	"maps"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
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

// key reads a key of a map[any]any. A string key comes from the table of
// interned keys when it is there.
func (d *decoder) key(depth int) any {
	if d.pos >= len(d.src) || d.src[d.pos] != TagString {
		return d.value(depth + 1)
	}
	d.pos++
	b := d.bytes()
	if d.err != nil {
		return nil
	}
	if t := keys.table.Load(); t != nil {
		if k, ok := (*t)[string(b)]; ok { // this lookup does not allocate
			return k
		}
	}
	if k, ok := intern(b); ok {
		return k
	}
	return unsafe.String(unsafe.SliceData(b), len(b)) // too long, or the table is full
}

// hashable reports whether k can be a map key without panicking.
func hashable(k any) bool {
	switch k.(type) {
	case nil, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
		float32, float64, string, time.Time:
		return true
	case []byte, []any, []string, map[string]any, map[any]any:
		return false
	}
	// A gob-decoded value: Comparable looks at the dynamic values inside
	// interfaces too, which is what hashing panics on.
	return reflect.ValueOf(k).Comparable()
}
