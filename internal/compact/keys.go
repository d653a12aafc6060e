package compact

import (
	"maps"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
)

// keys interns the string keys of decoded session maps, boxed in
// interfaces. They are few and come back in every request (the names an
// application gives its session values), and boxing a string into an
// interface costs an allocation each time (a lookup does not). The table is
// a copy-on-write map read without locking; it keeps at most 512 keys of at
// most 64 bytes (under 100 KiB) and stops growing when full, so an
// application with unbounded key names only loses the optimization for the
// keys that come after.
var (
	keysMu sync.Mutex                     // held by writers
	keys   atomic.Pointer[map[string]any] // never nil
)

func init() { keys.Store(new(map[string]any)) }

// key reads a key of a map[any]any, failing if it cannot be one. A string
// key comes from the table of interned keys when it is there or can be
// added.
func (d *decoder) key(depth int) any {
	at := d.pos
	if at >= len(d.src) || d.src[at] != TagString {
		k := d.value(depth + 1)
		if d.err == nil && !hashable(k) {
			d.fail("map key of type %T at offset %d is not comparable", k, at)
		}
		return k
	}
	d.pos++
	s := d.string()
	if d.err != nil {
		return nil
	}
	t := *keys.Load()
	if k, ok := t[s]; ok {
		return k
	} else if len(s) > 64 || len(t) >= 512 {
		return s
	}
	keysMu.Lock()
	defer keysMu.Unlock()
	if t = *keys.Load(); len(t) >= 512 { // t may have grown meanwhile
		return s
	}
	next := make(map[string]any, len(t)+1)
	maps.Copy(next, t)
	s = strings.Clone(s) // the table must not keep the input alive
	next[s] = s
	keys.Store(&next)
	return next[s]
}

// hashable reports whether k can be a map key without panicking.
func hashable(k any) bool {
	switch k.(type) {
	case []byte, []any, []string, map[string]any, map[any]any:
		return false
	}
	// The other types of the format are; for a gob-decoded value,
	// Comparable looks at the dynamic values inside interfaces too, which
	// is what hashing panics on (and it allocates, hence Knows first).
	return Knows(k) || reflect.ValueOf(k).Comparable()
}
