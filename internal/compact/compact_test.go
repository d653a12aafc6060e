//go:build !race

package compact

import "testing"

// TestAllocations pins the allocation counts of the format on the
// reference session (the race detector changes them, hence the build tag).
func TestAllocations(t *testing.T) {
	// Start from an empty table of interned keys (it is only a cache).
	resetKeys()

	ref := map[any]any{"user_id": "12345", "name": "Alice Example", "visits": 42}
	enc, err := Append(nil, ref)
	if err != nil {
		t.Fatal(err)
	}
	idEnc, err := Append(nil, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPABCD")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	var m map[any]any // outside the closures, so that they do not count
	var id string
	for _, tt := range []struct {
		name string
		max  float64
		f    func()
	}{
		{"Append into a reused buffer", 0, func() { buf, _ = Append(buf[:0], ref) }},
		// The map and its first group, and the two string values boxed
		// into interfaces: the keys are interned, the strings share the
		// input, the int 42 is boxed without allocating.
		{"Decode into *map", 4, func() { _ = Decode(enc, &m) }},
		{"Decode a session ID into *string", 0, func() { _ = Decode(idEnc, &id) }},
	} {
		if got := testing.AllocsPerRun(200, tt.f); got > tt.max {
			t.Errorf("%s: %v allocs per run, want at most %v", tt.name, got, tt.max)
		}
	}
	if len(m) != 3 || id == "" {
		t.Fatalf("decoded %v, %q", m, id)
	}
}
