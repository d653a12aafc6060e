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
// interface costs an allocation each time. The table is a copy-on-write map
// read without locking; it keeps at most 512 keys of at most 64 bytes
// (about 100 KiB) and stops growing when full, so an application with
// unbounded key names only loses the optimization for the keys that come
// after.
var keys struct {
	mu    sync.Mutex // held by writers
	table atomic.Pointer[map[string]any]
}

// interned returns the table, nil until a first key is added.
func interned() map[string]any {
	if p := keys.table.Load(); p != nil {
		return *p
	}
	return nil
}

// intern adds s to the table, unless it is too long or the table is full,
// and returns it boxed in an interface: the table's copy when there is one.
func intern(s string) any {
	if len(s) > 64 {
		return s
	}
	keys.mu.Lock()
	defer keys.mu.Unlock()
	t := interned()
	if k, ok := t[s]; ok {
		return k
	} else if len(t) >= 512 {
		return s
	}
	next := make(map[string]any, len(t)+1)
	maps.Copy(next, t)
	s = strings.Clone(s) // the table must not keep the input alive
	next[s] = s
	keys.table.Store(&next)
	return next[s]
}

// key reads a key of a map[any]any, failing if it cannot be one. A string
// key comes from the table of interned keys.
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
	if k, ok := interned()[s]; ok { // this lookup does not allocate
		return k
	}
	return intern(s)
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
