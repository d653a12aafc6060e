package compact

import (
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
)

// keys interns the string keys of decoded session maps, boxed in
// interfaces. They are few and come back in every request (the names an
// application gives its session values), and boxing a string into an
// interface costs an allocation each time (a Load does not). It keeps at
// most 512 keys of at most 64 bytes (under 100 KiB; keyCount counts them)
// and stops growing when full, so an application with unbounded key names
// only loses the optimization for the keys that come after.
var (
	keys     sync.Map // of string to the same string, boxed once
	keyCount atomic.Int32
)

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
	if k, ok := keys.Load(s); ok {
		return k
	} else if len(s) > 64 || keyCount.Load() >= 512 {
		return s
	} else if keyCount.Add(1) > 512 { // a slot is taken before storing
		keyCount.Add(-1)
		return s
	}
	var k any = strings.Clone(s) // the table must not keep the input alive
	k, loaded := keys.LoadOrStore(k, k)
	if loaded {
		keyCount.Add(-1) // another decoder stored it first
	}
	return k
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
