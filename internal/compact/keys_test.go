package compact

import (
	"fmt"
	"strings"
	"testing"
)

// TestInternedKeysBounded checks the table of interned keys: it keeps
// copies of the keys (not the input), at most 512 of them and none longer
// than 64 bytes, and a key it does not keep still decodes.
func TestInternedKeysBounded(t *testing.T) {
	keys.Clear()
	keyCount.Store(0)
	t.Cleanup(func() { keys.Clear(); keyCount.Store(0) })

	long := strings.Repeat("k", 65)
	for i := range 7 {
		m := map[any]any{long: i}
		for j := range 100 {
			m[fmt.Sprintf("key%d-%d", i, j)] = j
		}
		src, err := Append(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		var got map[any]any
		if err := Decode(src, &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 101 || got[long] != i || got[fmt.Sprintf("key%d-99", i)] != 99 {
			t.Fatalf("round %d: decoded %d entries, %v for the long key", i, len(got), got[long])
		}
		clear(src) // the table must not share it (decoded values may)
	}
	n := 0
	keys.Range(func(k, v any) bool {
		if n++; k != v || len(k.(string)) > 64 || !strings.HasPrefix(k.(string), "key") {
			t.Errorf("table holds %q -> %q", k, v)
		}
		return true
	})
	if n != 512 || keyCount.Load() != 512 {
		t.Errorf("table holds %d keys (count %d), want 512", n, keyCount.Load())
	}
	if _, ok := keys.Load("key0-0"); !ok {
		t.Error("the first key seen was not kept")
	}
}
