//go:build !race

// The race detector changes allocation counts and timings, so the
// allocation tests and benchmarks of the serializer are left out under it.

package sessions

import (
	"bytes"
	"encoding/gob"
	"runtime"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
)

// TestSerializerAllocations locks in the allocation counts reached on the
// reference session; a change that adds allocations fails here.
func TestSerializerAllocations(t *testing.T) {
	// Start from an empty table of interned keys, which other tests may
	// have filled (it is only a cache).
	compactKeys.mu.Lock()
	compactKeys.table.Store(nil)
	compactKeys.mu.Unlock()

	var s CompactSerializer
	ref := serRefValues()
	enc, err := s.Serialize(ref)
	if err != nil {
		t.Fatal(err)
	}
	idEnc, err := s.Serialize("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPABCD")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	// Destinations outside the closures, so that they do not count.
	var m map[interface{}]interface{}
	var id string
	tests := []struct {
		name string
		max  float64
		f    func()
	}{
		{"AppendSerialize into a reused buffer", 0, func() {
			buf, _ = s.AppendSerialize(buf[:0], ref)
		}},
		{"Serialize", 1, func() {
			_, _ = s.Serialize(ref)
		}},
		// The map and its first group, one copy of the input for all its
		// strings, and the two string values boxed into interfaces (the
		// keys are interned, the int 42 is boxed without allocating).
		{"Deserialize into *map", 5, func() {
			_ = s.Deserialize(enc, &m)
		}},
		{"Deserialize session ID into *string", 1, func() {
			_ = s.Deserialize(idEnc, &id)
		}},
		{"Serialize+Deserialize", 6, func() {
			b, _ := s.Serialize(ref)
			_ = s.Deserialize(b, &m)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(200, tt.f); got > tt.max {
				t.Errorf("%s: %v allocs per run, want at most %v", tt.name, got, tt.max)
			}
		})
	}
}

// TestSerializerDecodeMemoryBound checks that hostile inputs made of many
// small elements make the decoder allocate at most a fixed multiple of their
// size: every count is checked against the input left, so memory grows with
// the input, never with what it declares.
func TestSerializerDecodeMemoryBound(t *testing.T) {
	var gobInt bytes.Buffer
	var iv interface{} = 1
	if err := gob.NewEncoder(&gobInt).Encode(&iv); err != nil {
		t.Fatal(err)
	}
	tb, err := time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("", 17*60)).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	tests := []struct {
		name     string
		elem     []byte // repeated n times in a []interface{}
		maxRatio float64
	}{
		{"nil", []byte{compactTagNil}, 40},
		{"empty list", []byte{compactTagList, 1}, 40},
		{"empty map", []byte{compactTagMap, 1}, 40},
		{"one-byte []byte", []byte{compactTagBytes, 2, 'x'}, 40},
		{"int", []byte{compactTagInt, 0xd0, 0x0f}, 40},
		{"time in a fixed zone", append([]byte{compactTagTime, byte(len(tb))}, tb...), 40},
		// Each gob value needs its own gob decoder: gob's cost, paid only
		// for custom types, mostly short-lived garbage.
		{"gob int", append([]byte{compactTagGob, byte(gobInt.Len())}, gobInt.Bytes()...), 250},
		{"list declaring far more elements than it holds", []byte{compactTagList, 0xff, 0xff, 0xff, 0xff, 0x0f}, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			count := n
			if tt.elem[0] == compactTagGob {
				count = n / 20 // gob is slow
			}
			in := serCompact(compactTagList, count+1)
			for range count {
				in = append(in, tt.elem...)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var v interface{}
			_ = CompactSerializer{}.Deserialize(in, &v)
			runtime.ReadMemStats(&after)
			ratio := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(in))
			if ratio > tt.maxRatio {
				t.Errorf("decoding %d bytes allocated %d bytes (%.1f times), want at most %v times",
					len(in), after.TotalAlloc-before.TotalAlloc, ratio, tt.maxRatio)
			}
		})
	}
}

func BenchmarkCompactSerialize(b *testing.B) {
	var s CompactSerializer
	ref := serRefValues()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Serialize(ref); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompactAppendSerialize(b *testing.B) {
	var s CompactSerializer
	ref := serRefValues()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = s.AppendSerialize(buf[:0], ref); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompactDeserialize(b *testing.B) {
	var s CompactSerializer
	enc, err := s.Serialize(serRefValues())
	if err != nil {
		b.Fatal(err)
	}
	var m map[interface{}]interface{} // outside the loop: its own allocation is not counted
	b.ReportAllocs()
	for b.Loop() {
		m = nil // a fresh map each time (gob would merge into an old one)
		if err := s.Deserialize(enc, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompactRoundTrip(b *testing.B) {
	var s CompactSerializer
	ref := serRefValues()
	var m map[interface{}]interface{}
	b.ReportAllocs()
	for b.Loop() {
		enc, err := s.Serialize(ref)
		if err != nil {
			b.Fatal(err)
		}
		m = nil // a fresh map each time (gob would merge into an old one)
		if err := s.Deserialize(enc, &m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompactDeserializeGob measures reading a session written by
// gorilla/sessions (gob), the compatibility path.
func BenchmarkCompactDeserializeGob(b *testing.B) {
	var s CompactSerializer
	enc, err := securecookie.GobEncoder{}.Serialize(serRefValues())
	if err != nil {
		b.Fatal(err)
	}
	var m map[interface{}]interface{} // outside the loop: its own allocation is not counted
	b.ReportAllocs()
	for b.Loop() {
		m = nil // a fresh map each time (gob would merge into an old one)
		if err := s.Deserialize(enc, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGobSerialize(b *testing.B) {
	var g securecookie.GobEncoder
	ref := serRefValues()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Serialize(ref); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGobDeserialize(b *testing.B) {
	var g securecookie.GobEncoder
	enc, err := g.Serialize(serRefValues())
	if err != nil {
		b.Fatal(err)
	}
	var m map[interface{}]interface{} // outside the loop: its own allocation is not counted
	b.ReportAllocs()
	for b.Loop() {
		m = nil
		if err := g.Deserialize(enc, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGobRoundTrip(b *testing.B) {
	var g securecookie.GobEncoder
	ref := serRefValues()
	var m map[interface{}]interface{}
	b.ReportAllocs()
	for b.Loop() {
		enc, err := g.Serialize(ref)
		if err != nil {
			b.Fatal(err)
		}
		m = nil
		if err := g.Deserialize(enc, &m); err != nil {
			b.Fatal(err)
		}
	}
}
