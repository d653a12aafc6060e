//go:build !race

// The race detector changes allocation counts and timings, so the
// allocation tests and benchmarks of the serializer are left out under it.

package sessions

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/fasthttp-sessions/sessions/internal/compact"
)

// TestSerializerAllocations locks in the allocation counts reached on the
// reference session; a change that adds allocations fails here. The
// format's own counts are pinned in internal/compact; the wrapper adds one
// allocation at most: the result of Serialize, the copy of the input that
// the strings Deserialize decodes share.
func TestSerializerAllocations(t *testing.T) {
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
	var m map[any]any
	var id string
	allocs := func(f func()) float64 { f(); return testing.AllocsPerRun(200, f) }
	decodeMap := allocs(func() { _ = compact.Decode(enc, &m) })
	decodeID := allocs(func() { _ = compact.Decode(idEnc, &id) })
	tests := []struct {
		name string
		max  float64
		f    func()
	}{
		{"compact.Append into a reused buffer", 0, func() {
			buf, _ = compact.Append(buf[:0], ref)
		}},
		{"Serialize", 1, func() {
			_, _ = s.Serialize(ref)
		}},
		{"Deserialize into *map", decodeMap + 1, func() {
			_ = s.Deserialize(enc, &m)
		}},
		{"Deserialize session ID into *string", decodeID + 1, func() {
			_ = s.Deserialize(idEnc, &id)
		}},
		{"Serialize+Deserialize", decodeMap + 2, func() {
			b, _ := s.Serialize(ref)
			_ = s.Deserialize(b, &m)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := allocs(tt.f); got > tt.max {
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
	var iv any = 1
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
		elem     []byte // repeated n times in a []any
		maxRatio float64
	}{
		{"nil", []byte{compact.TagNil}, 40},
		{"empty list", []byte{compact.TagList, 1}, 40},
		{"empty map", []byte{compact.TagMap, 1}, 40},
		{"one-byte []byte", []byte{compact.TagBytes, 2, 'x'}, 40},
		{"int", []byte{compact.TagInt, 0xd0, 0x0f}, 40},
		{"time in a fixed zone", append([]byte{compact.TagTime, byte(len(tb))}, tb...), 40},
		// Each gob value needs its own gob decoder: gob's cost, paid only
		// for custom types, mostly short-lived garbage.
		{"gob int", append([]byte{compact.TagGob, byte(gobInt.Len())}, gobInt.Bytes()...), 250},
		{"list declaring far more elements than it holds", []byte{compact.TagList, 0xff, 0xff, 0xff, 0xff, 0x0f}, 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			count := n
			if tt.elem[0] == compact.TagGob {
				count = n / 20 // gob is slow
			}
			in := serCompact(compact.TagList, count+1)
			for range count {
				in = append(in, tt.elem...)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			var v any
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
	ref := serRefValues()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = compact.Append(buf[:0], ref); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompactAppendSerializeMap20 encodes a 20-key session, where
// sorting the entries (for deterministic output) costs the most.
func BenchmarkCompactAppendSerializeMap20(b *testing.B) {
	m := map[any]any{}
	for i := range 20 {
		m[fmt.Sprintf("key_%02d", i)] = []any{"value", i}[i%2]
	}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = compact.Append(buf[:0], m); err != nil {
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
	var m map[any]any // outside the loop: its own allocation is not counted
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
	var m map[any]any
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
	var m map[any]any // outside the loop: its own allocation is not counted
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
	var m map[any]any // outside the loop: its own allocation is not counted
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
	var m map[any]any
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
