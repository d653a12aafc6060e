package sessions

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/fasthttp-sessions/sessions/internal/compact"
)

// serFuzzSeedValues returns values of many shapes, whose encodings seed the
// fuzzers and the truncation test.
func serFuzzSeedValues() []any {
	when := time.Date(2025, 1, 2, 3, 4, 5, 6, time.FixedZone("", 5*3600+30*60))
	return []any{
		nil, true, false, 0, -1, math.MaxInt, int8(-8), int16(-300), int32(70000), int64(math.MinInt64),
		uint(1), uint8(200), uint16(60000), uint32(1 << 31), uint64(math.MaxUint64),
		float32(1.5), math.Inf(1), math.NaN(), "", "session-id", []byte{}, []byte("raw"), []byte(nil),
		when, time.Time{}, time.Unix(1700000000, 0).UTC(),
		[]any{}, []any{1, "a", nil, []any{true}},
		[]string{}, []string{"a", "bb"}, []string(nil),
		map[string]any{}, map[string]any{"a": 1, "b": map[string]any{"c": "d"}},
		map[any]any{}, map[any]any(nil),
		serRefValues(),
		map[any]any{"_flash": []any{"one", "two"}, 1: 2.5, true: when},
		map[any]any{"point": serTestPoint{X: 1, Y: 2, Tag: "t"}, "role": serTestRole("admin"), "ints": []int{1, 2}},
		map[any]any{"deep": []any{[]any{[]any{map[string]any{"x": []string{"y"}}}}}},
		map[any]any{"h": serTestHolder{Any: serTestPoint{X: 1}, List: []any{nil, "a", serTestRole("r")},
			M: map[string]any{"t": serTestTree{Name: "t", Meta: map[string]int{"k": 1}}}, Arr: [3]int{1, 2, 3}, When: when}},
		serTestHolder{List: []any{nil, nil, serTestPoint{}}},
	}
}

// FuzzDeserialize feeds arbitrary bytes to Deserialize: it must return a
// value or an error wrapping ErrDeserialize, never panic, and whatever it
// decodes from the compact format must encode and decode again to the same
// value. Deserialize trusts encoding/gob with gob data (it must only be
// given authenticated input), so inputs that gob would see are left out:
// gob streams, and compact inputs holding the gob tag byte anywhere.
func FuzzDeserialize(f *testing.F) {
	var s CompactSerializer
	for _, v := range serFuzzSeedValues() {
		b, err := s.Serialize(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{compact.Magic})
	f.Add([]byte{0x80})
	f.Add([]byte{compact.Magic, compact.TagList, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{compact.Magic, compact.TagString, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte(strings.Repeat(string([]byte{compact.TagList, 2}), 40)))

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 0 && (data[0] < 0x80 || data[0] > 0xF7) || bytes.IndexByte(data, compact.TagGob) >= 0 {
			return // for gob
		}
		check := func(err error, dst string) {
			if err == nil {
				return
			}
			if !errors.Is(err, ErrDeserialize) || !strings.HasPrefix(err.Error(), "sessions: ") {
				t.Fatalf("Deserialize(%x) into %s: error %q does not wrap ErrDeserialize", data, dst, err)
			}
		}
		var m map[any]any
		check(s.Deserialize(data, &m), "*map")
		var id string
		check(s.Deserialize(data, &id), "*string")
		var v any
		err := s.Deserialize(data, &v)
		check(err, "*any")
		if err != nil || len(data) == 0 || data[0] != compact.Magic {
			return
		}
		b, err := s.Serialize(v)
		if err != nil {
			t.Fatalf("re-encoding %#v decoded from %x: %v", v, data, err)
		}
		// A value of a type the compact format does not know (the input
		// held a gob value at the top) is re-encoded as plain gob, which
		// gob decodes only into its own type, not into an *any.
		var p any = new(any)
		if v != nil {
			p = reflect.New(reflect.TypeOf(v)).Interface()
		}
		if err := s.Deserialize(b, p); err != nil {
			t.Fatalf("decoding the re-encoding %x of %#v: %v", b, v, err)
		}
		if v2 := reflect.ValueOf(p).Elem().Interface(); !serEqual(v, v2) {
			t.Fatalf("round trip of %#v gave %#v", v, v2)
		}
	})
}

// FuzzSerializeRoundTrip builds session values from fuzzed scalars and
// checks that they come back identical, types included.
func FuzzSerializeRoundTrip(f *testing.F) {
	f.Add("user", "12345", int64(42), uint64(7), 1.5, []byte("raw"), true)
	f.Add("", "", int64(math.MinInt64), uint64(math.MaxUint64), math.NaN(), []byte(nil), false)
	f.Add("_flash", "\xff\x00", int64(-1), uint64(1<<40), math.Inf(-1), []byte{}, true)
	var s CompactSerializer
	f.Fuzz(func(t *testing.T, key, str string, i int64, u uint64, fl float64, raw []byte, flag bool) {
		in := map[any]any{
			key:             str,
			"int":           int(i),
			"int8":          int8(i),
			"int16":         int16(i),
			"int32":         int32(i),
			"int64":         i,
			"uint":          uint(u),
			"uint8":         uint8(u),
			"uint16":        uint16(u),
			"uint32":        uint32(u),
			"uint64":        u,
			"float32":       float32(fl),
			"float64":       fl,
			"bytes":         raw,
			"bool":          flag,
			"time":          time.Unix(i%(1<<40), int64(u%1e9)).UTC(),
			"_flash":        []any{str, i, []string{key, str}},
			i:               map[string]any{key: []any{u, fl, raw}},
			str + "\x00key": map[any]any{u: flag, key: nil},
		}
		b, err := s.Serialize(in)
		if err != nil {
			t.Fatal(err)
		}
		var out map[any]any
		if err := s.Deserialize(b, &out); err != nil {
			t.Fatal(err)
		}
		if !serEqual(in, out) {
			t.Fatalf("round trip of %#v gave %#v", in, out)
		}

		// What gorilla/sessions writes for the same values, with a struct
		// holding interfaces, must decode to the same values.
		in["holder"] = serTestHolder{Any: in[key], List: []any{nil, str, serTestPoint{X: int(i), Tag: key}}, Arr: [3]int{int(i)}}
		g, err := securecookie.GobEncoder{}.Serialize(in)
		if err != nil {
			t.Fatal(err)
		}
		var gout, ref map[any]any
		if err := s.Deserialize(g, &gout); err != nil {
			t.Fatal(err)
		}
		// gob itself turns empty slices into nil: compare with what it
		// decodes (g is gob's own output, safe to give it).
		if err := (securecookie.GobEncoder{}).Deserialize(g, &ref); err != nil {
			t.Fatal(err)
		}
		if !serEqual(ref, gout) {
			t.Fatalf("gob data of %#v gave %#v, gob gives %#v", in, gout, ref)
		}
	})
}
