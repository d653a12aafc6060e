package compact

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// resetKeys empties the table of interned keys (it is only a cache).
func resetKeys() { keys.Store(new(map[string]any)) }

// tableKeys returns the keys in the table, failing on an entry that is not
// mapped to itself or that is longer than 64 bytes.
func tableKeys(t *testing.T) []string {
	t.Helper()
	var ks []string
	for k, v := range *keys.Load() {
		if k != v || len(k) > 64 {
			t.Errorf("table holds %q -> %q", k, v)
		}
		ks = append(ks, k)
	}
	return ks
}

// TestInternedKeysBounded checks the table of interned keys: it keeps
// copies of the keys (not the input), at most 512 of them and none longer
// than 64 bytes, and a key it does not keep still decodes.
func TestInternedKeysBounded(t *testing.T) {
	resetKeys()
	t.Cleanup(resetKeys)

	long, edge := strings.Repeat("k", 65), strings.Repeat("m", 64)
	for i := range 7 {
		m := map[any]any{long: i, edge: i}
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
		if len(got) != 102 || got[long] != i || got[fmt.Sprintf("key%d-99", i)] != 99 {
			t.Fatalf("round %d: decoded %d entries, %v for the long key", i, len(got), got[long])
		}
		clear(src) // the table must not share it (decoded values may)
	}
	table := map[string]bool{}
	for _, k := range tableKeys(t) {
		if table[k] = true; k != edge && !strings.HasPrefix(k, "key") {
			t.Errorf("table holds %q", k)
		}
	}
	if len(table) != 512 {
		t.Errorf("table holds %d keys, want 512", len(table))
	}
	if !table["key0-0"] || !table[edge] {
		t.Errorf("the first keys seen were not kept: key0-0 %v, the 64-byte key %v", table["key0-0"], table[edge])
	}
}

// TestInternedKeysConcurrent decodes sessions with shared and distinct keys
// from many goroutines at once, in several trials: every key must come back
// right, and the table must still stop at 512 keys.
func TestInternedKeysConcurrent(t *testing.T) {
	t.Cleanup(resetKeys)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(64))

	const goroutines = 1000
	srcs, want := make([][]byte, goroutines), make([]map[any]any, goroutines)
	for g := range srcs {
		m := map[any]any{"shared": g}
		want[g] = m
		for j := range 10 {
			m[fmt.Sprintf("g%03d-%d-%s", g, j, strings.Repeat("p", 5*j))] = j
		}
		var err error
		if srcs[g], err = Append(nil, m); err != nil {
			t.Fatal(err)
		}
	}
	for trial := 0; trial < 10 && !t.Failed(); trial++ {
		resetKeys()
		var wg sync.WaitGroup
		start := make(chan struct{}) // all decode at once
		for g, src := range srcs {
			wg.Go(func() {
				<-start
				for range 3 {
					var got map[any]any
					if err := Decode(bytes.Clone(src), &got); err != nil {
						t.Error(err)
						return
					}
					for k, v := range got {
						if w, ok := want[g][k]; !ok || v != w || len(got) != len(want[g]) {
							t.Errorf("goroutine %d decoded %v = %v, want %v (%d keys)", g, k, v, w, len(got))
						}
					}
					runtime.Gosched()
				}
			})
		}
		close(start)
		wg.Wait()
		if n := len(tableKeys(t)); n != 512 {
			t.Errorf("trial %d: table holds %d keys, want 512", trial, n)
		}
	}
}
