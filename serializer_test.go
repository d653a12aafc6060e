package sessions

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/fasthttp-sessions/sessions/internal/compact"
)

// serTestPoint and serTestRole are custom types registered with gob, as an
// application using gorilla/sessions registers its own.
type serTestPoint struct {
	X, Y int
	Tag  string
}

type serTestRole string

// serTestUnregistered is never registered with gob.
type serTestUnregistered struct{ A int }

// serTestPanicker panics when gob encodes it.
type serTestPanicker struct{}

func (serTestPanicker) GobEncode() ([]byte, error) { panic("boom") }
func (*serTestPanicker) GobDecode([]byte) error    { return nil }

// serTestHolder and serTestTree are registered types with interface,
// slice, map, array, pointer, embedded and recursive fields, for the gob
// compatibility tests.
type serTestHolder struct {
	Any  any
	List []any
	M    map[string]any
	Arr  [3]int
	When time.Time
	P    *serTestPoint
	serTestEmbedded
}

// serTestEmbedded is unexported, so gob leaves it out; it is there for the
// shape of the wire type.
type serTestEmbedded struct{ E string }

type serTestTree struct {
	Name string
	Kids []*serTestTree
	Meta map[string]int
}

func init() {
	gob.Register(serTestHolder{})
	gob.Register(serTestTree{})
	gob.Register(map[string]int{})
	gob.Register(serTestPoint{})
	gob.Register(serTestRole(""))
	gob.Register(serTestPanicker{})
	gob.Register([]*serTestPoint{})
	// What an application would have registered for gorilla/sessions to
	// store these inside the session values.
	gob.Register(time.Time{})
	gob.Register(map[string]any{})
	gob.Register(map[any]any{})
}

// serRefValues returns the reference session of the benchmarks.
func serRefValues() map[any]any {
	return map[any]any{"user_id": "12345", "name": "Alice Example", "visits": 42}
}

// serEqual reports whether a and b hold the same types and values, with
// floats compared bit for bit (NaN equals itself) and times with Equal.
func serEqual(a, b any) bool {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	switch x := a.(type) {
	case float32:
		return math.Float32bits(x) == math.Float32bits(b.(float32))
	case float64:
		return math.Float64bits(x) == math.Float64bits(b.(float64))
	case time.Time:
		y := b.(time.Time)
		_, xo := x.Zone()
		_, yo := y.Zone()
		return x.Equal(y) && xo == yo
	case []any:
		y := b.([]any)
		if (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !serEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y := b.(map[string]any)
		if (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !serEqual(v, w) {
				return false
			}
		}
		return true
	case map[any]any:
		y := b.(map[any]any)
		if (x == nil) != (y == nil) || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if serIsNaN(k) {
				continue // a NaN key cannot be looked up
			}
			w, ok := y[k]
			if !ok {
				// A decoded time.Time key has another *Location than the
				// original, so it is another key: look for an equal one.
				for k2, w2 := range y {
					if serEqual(k, k2) {
						w, ok = w2, true
						break
					}
				}
			}
			if !ok || !serEqual(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func serIsNaN(v any) bool {
	switch x := v.(type) {
	case float32:
		return math.IsNaN(float64(x))
	case float64:
		return math.IsNaN(x)
	}
	return false
}

// serRoundTrip serializes v, checks the format chosen, decodes it into an
// *any and into a pointer to v's own type, and checks both give v.
func serRoundTrip(t *testing.T, v any) []byte {
	t.Helper()
	var s CompactSerializer
	b, err := s.Serialize(v)
	if err != nil {
		t.Fatalf("Serialize(%#v): %v", v, err)
	}
	if compact.Knows(v) && b[0] != compact.Magic {
		t.Fatalf("Serialize(%#v) starts with 0x%02X, want the magic byte", v, b[0])
	}

	// compact.Append keeps what dst held and appends an encoding of the
	// same value (the same bytes, but for values encoded with gob).
	prefix := []byte("prefix")
	ab, err := compact.Append(append([]byte(nil), prefix...), v)
	if err != nil {
		t.Fatalf("compact.Append(%#v): %v", v, err)
	}
	if !bytes.HasPrefix(ab, prefix) || len(ab)-len(prefix) != len(b) {
		t.Fatalf("compact.Append(%#v) = %q, want %q then %d bytes", v, ab, prefix, len(b))
	}

	if compact.Knows(v) {
		var got any
		if err := s.Deserialize(b, &got); err != nil {
			t.Fatalf("Deserialize(%#v) into *any: %v", v, err)
		}
		if !serEqual(v, got) {
			t.Fatalf("round trip into *any: got %#v (%T), want %#v (%T)", got, got, v, v)
		}
		var got2 any
		if err := s.Deserialize(ab[len(prefix):], &got2); err != nil || !serEqual(v, got2) {
			t.Fatalf("compact.Append output decodes to %#v, %v; want %#v", got2, err, v)
		}
	}
	if v != nil {
		p := reflect.New(reflect.TypeOf(v))
		if err := s.Deserialize(b, p.Interface()); err != nil {
			t.Fatalf("Deserialize(%#v) into %T: %v", v, p.Interface(), err)
		}
		if got := p.Elem().Interface(); !serEqual(v, got) {
			t.Fatalf("round trip into %T: got %#v, want %#v", p.Interface(), got, v)
		}
	}
	return b
}

func TestSerializerRoundTrip(t *testing.T) {
	utc := time.Date(2024, 2, 29, 13, 14, 15, 123456789, time.UTC)
	tests := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"false", false},
		{"true", true},
		{"int zero", 0},
		{"int", -12345},
		{"int max", math.MaxInt},
		{"int min", math.MinInt},
		{"int8 min", int8(math.MinInt8)},
		{"int8 max", int8(math.MaxInt8)},
		{"int16 min", int16(math.MinInt16)},
		{"int16 max", int16(math.MaxInt16)},
		{"int32 min", int32(math.MinInt32)},
		{"int32 max", int32(math.MaxInt32)},
		{"int64 min", int64(math.MinInt64)},
		{"int64 max", int64(math.MaxInt64)},
		{"uint", uint(7)},
		{"uint max", uint(math.MaxUint)},
		{"uint8", uint8(255)},
		{"uint16", uint16(math.MaxUint16)},
		{"uint32", uint32(math.MaxUint32)},
		{"uint64", uint64(math.MaxUint64)},
		{"float32", float32(3.25)},
		{"float32 NaN", float32(math.NaN())},
		{"float32 -0", float32(math.Copysign(0, -1))},
		{"float32 +Inf", float32(math.Inf(1))},
		{"float64", math.Pi},
		{"float64 NaN", math.NaN()},
		{"float64 -Inf", math.Inf(-1)},
		{"float64 smallest", math.SmallestNonzeroFloat64},
		{"string empty", ""},
		{"string", "héllo, wörld \x00\xff"},
		{"string long", strings.Repeat("x", 100000)},
		{"bytes nil", []byte(nil)},
		{"bytes empty", []byte{}},
		{"bytes", []byte{0, 1, 2, 0xC1, 0xFF}},
		{"time UTC", utc},
		{"time fixed zone", utc.In(time.FixedZone("X", -(3*3600 + 30*60)))},
		{"time seconds offset", utc.In(time.FixedZone("LMT", 3600+17))},
		{"time local", utc.Local()},
		{"time zero", time.Time{}},
		{"list nil", []any(nil)},
		{"list empty", []any{}},
		{"list", []any{1, "two", 3.0, nil, []any{int8(4)}, uint16(5)}},
		{"strings nil", []string(nil)},
		{"strings empty", []string{}},
		{"strings", []string{"a", "", "ccc"}},
		{"string map nil", map[string]any(nil)},
		{"string map empty", map[string]any{}},
		{"string map", map[string]any{"a": 1, "": "empty key", "n": map[string]any{"x": []string{"y"}}}},
		{"map nil", map[any]any(nil)},
		{"map empty", map[any]any{}},
		{"reference map", serRefValues()},
		{"map with mixed keys", map[any]any{
			"s": 1, 2: "int key", int64(2): "int64 key", uint8(2): "uint8 key", 2.5: true,
			true: false, nil: "nil key", utc: "time key", serTestPoint{X: 1}: "struct key",
		}},
		{"map nested", map[any]any{
			"a": map[any]any{"b": map[string]any{"c": []any{map[any]any{1: 2}}}},
		}},
		{"flashes", map[any]any{"_flash": []any{"saved", "welcome back"}, "user": "bob"}},
		{"custom registered types in map", map[any]any{
			"point": serTestPoint{X: 1, Y: -2, Tag: "p"},
			"role":  serTestRole("admin"),
			"ints":  []int{1, 2, 3}, // pre-registered by gob
			"ptr":   []*serTestPoint{{X: 9}},
		}},
		{"custom type in list", []any{serTestPoint{X: 3}, serTestRole("r")}},
		{"top-level custom struct (plain gob)", serTestPoint{X: 5, Tag: "top"}},
		{"top-level unregistered struct (plain gob)", serTestUnregistered{A: 1}},
		{"top-level map[string]string (plain gob)", map[string]string{"a": "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serRoundTrip(t, tt.v)
		})
	}
}

func TestSerializerMaxNesting(t *testing.T) {
	nest := func(depth int) any {
		var v any = "leaf"
		for range depth {
			v = []any{v}
		}
		return v
	}
	serRoundTrip(t, nest(compact.MaxDepth))
	nestedMap := map[any]any{"v": nest(compact.MaxDepth - 1)}
	serRoundTrip(t, nestedMap)

	var s CompactSerializer
	if _, err := s.Serialize(nest(compact.MaxDepth + 1)); !errors.Is(err, ErrSerialize) {
		t.Fatalf("Serialize of %d nested slices: err = %v, want ErrSerialize", compact.MaxDepth+1, err)
	}
}

func TestSerializerTopLevelDestinations(t *testing.T) {
	var s CompactSerializer

	b, err := s.Serialize(serRefValues())
	if err != nil {
		t.Fatal(err)
	}
	old := map[any]any{"stale": true}
	m := old
	if err := s.Deserialize(b, &m); err != nil {
		t.Fatal(err)
	}
	if !serEqual(m, serRefValues()) {
		t.Fatalf("got %#v", m)
	}
	if len(old) != 1 {
		t.Fatalf("Deserialize modified the map *dst held: %#v", old)
	}

	b, err = s.Serialize("session-id")
	if err != nil {
		t.Fatal(err)
	}
	var id string
	if err := s.Deserialize(b, &id); err != nil || id != "session-id" {
		t.Fatalf("Deserialize into *string = %q, %v", id, err)
	}
	var empty = "x"
	if b, err = s.Serialize(""); err != nil {
		t.Fatal(err)
	}
	if err := s.Deserialize(b, &empty); err != nil || empty != "" {
		t.Fatalf("Deserialize empty string = %q, %v", empty, err)
	}

	// nil into destinations that can hold it.
	b, err = s.Serialize(nil)
	if err != nil {
		t.Fatal(err)
	}
	m = map[any]any{"x": 1}
	if err := s.Deserialize(b, &m); err != nil || m != nil {
		t.Fatalf("nil into *map = %#v, %v", m, err)
	}
	sl := []string{"x"}
	if err := s.Deserialize(b, &sl); err != nil || sl != nil {
		t.Fatalf("nil into *[]string = %#v, %v", sl, err)
	}

	// A compact map into a destination of a named interface type.
	var st interface{ String() string }
	b, _ = s.Serialize(map[any]any{"t": time.Unix(0, 0).UTC()})
	var mi map[any]any
	if err := s.Deserialize(b, &mi); err != nil {
		t.Fatal(err)
	}
	st = mi["t"].(time.Time)
	if st.String() == "" {
		t.Fatal("empty time")
	}
}

// TestSerializerDecodedValuesDoNotAlias checks that decoded strings and
// byte slices do not point into the input, which may be a pooled buffer.
func TestSerializerDecodedValuesDoNotAlias(t *testing.T) {
	var s CompactSerializer
	in := map[any]any{"k": "value", "b": []byte("bytes"), "l": []string{"str"}}
	b, err := s.Serialize(in)
	if err != nil {
		t.Fatal(err)
	}
	var got map[any]any
	if err := s.Deserialize(b, &got); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 'Z'
	}
	if !serEqual(in, got) {
		t.Fatalf("decoded values changed with the input: %#v", got)
	}
	got["b"].([]byte)[0] = 'X'
	if string(in["b"].([]byte)) != "bytes" {
		t.Fatal("decoded []byte aliases the original")
	}
}

// TestSerializerReadsGob checks that data written by securecookie.GobEncoder,
// which is what gorilla/sessions writes, deserializes.
func TestSerializerReadsGob(t *testing.T) {
	when := time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name string
		v    any
		dst  func() any // a pointer to decode into
	}{
		{"session values", map[any]any{
			"user_id": "12345", "visits": 42, "ratio": 0.5, "ok": true, "when": when,
			"_flash": []any{"hello", 3},
			"point":  serTestPoint{X: 1, Y: 2, Tag: "t"},
			"role":   serTestRole("admin"),
			"nested": map[string]any{"a": "b"},
			"bytes":  []byte("raw"),
			"int8":   int8(-3), "uint16": uint16(9),
		}, func() any { return new(map[any]any) }},
		{"session ID", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPABCD", func() any { return new(string) }},
		{"struct", serTestPoint{X: 3, Tag: "s"}, func() any { return new(serTestPoint) }},
		{"big map", func() map[any]any {
			m := map[any]any{}
			for i := range 500 {
				m[i] = strings.Repeat("v", i)
			}
			return m
		}(), func() any { return new(map[any]any) }},
	}
	var s CompactSerializer
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := securecookie.GobEncoder{}.Serialize(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			dst := tt.dst()
			if err := s.Deserialize(b, dst); err != nil {
				t.Fatalf("Deserialize gob: %v", err)
			}
			if got := reflect.ValueOf(dst).Elem().Interface(); !serEqual(tt.v, got) {
				t.Fatalf("got %#v, want %#v", got, tt.v)
			}
		})
	}

	// A top-level value of a type the compact format does not know is
	// written as plain gob, which gorilla's GobEncoder reads back.
	b, err := s.Serialize(serTestPoint{X: 7})
	if err != nil {
		t.Fatal(err)
	}
	var p serTestPoint
	if err := (securecookie.GobEncoder{}).Deserialize(b, &p); err != nil || p.X != 7 {
		t.Fatalf("GobEncoder reading our plain gob: %+v, %v", p, err)
	}
}

// TestSerializerGobNeverStartsWithMagic checks the premise of the format
// detection: gob streams of every shape and size start with a byte in
// 0x00–0x7F or 0xF8–0xFF, never in 0x80–0xF7 where the magic byte is.
func TestSerializerGobNeverStartsWithMagic(t *testing.T) {
	if compact.Magic < 0x80 || compact.Magic > 0xF7 {
		t.Fatalf("magic byte 0x%02X is outside 0x80–0xF7", compact.Magic)
	}
	var values []any
	for _, n := range []int{0, 1, 10, 100, 120, 127, 128, 200, 255, 256, 1000, 65535, 65536, 70000, 1 << 20} {
		s := strings.Repeat("a", n)
		values = append(values,
			s,
			[]byte(s),
			map[any]any{"k": s, "n": n, "_flash": []any{s}},
			map[string]any{"k": s},
			serTestPoint{Tag: s},
		)
	}
	values = append(values, 0, -1, math.MaxInt, 1.5, true, time.Now(), serRefValues(),
		[]any{1, "a"}, []string{"x"}, serTestRole("r"))
	for _, v := range values {
		b, err := securecookie.GobEncoder{}.Serialize(v)
		if err != nil {
			t.Fatalf("gob %T: %v", v, err)
		}
		if first := b[0]; first >= 0x80 && first <= 0xF7 {
			t.Fatalf("gob stream of %T (%d bytes) starts with 0x%02X", v, len(b), first)
		}
		// And a stream of an interface value, as stored inside our format.
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(&v); err != nil {
			t.Fatal(err)
		}
		if first := buf.Bytes()[0]; first >= 0x80 && first <= 0xF7 {
			t.Fatalf("gob stream of interface %T starts with 0x%02X", v, first)
		}
	}
	// gob itself refuses a stream starting with any byte of that range.
	for first := 0x80; first <= 0xF7; first++ {
		var v any
		if err := gob.NewDecoder(bytes.NewReader([]byte{byte(first), 0, 0, 0, 0, 0, 0, 0, 0, 0})).Decode(&v); err == nil {
			t.Fatalf("gob accepted a stream starting with 0x%02X", first)
		}
	}
}

func TestSerializerSerializeErrors(t *testing.T) {
	selfRef := map[string]any{}
	selfRef["me"] = selfRef
	tests := []struct {
		name string
		v    any
		want string // in the message
	}{
		{"unregistered type in map", map[any]any{"x": serTestUnregistered{A: 1}}, "not registered"},
		{"unregistered type as key", map[any]any{serTestUnregistered{A: 1}: 1}, "not registered"},
		{"unregistered type in list", []any{serTestUnregistered{}}, "not registered"},
		{"channel in map", map[any]any{"c": make(chan int)}, "chan int"},
		{"func in map", map[string]any{"f": func() {}}, "func()"},
		{"nil pointer in map", map[any]any{"p": (*serTestPoint)(nil)}, "nil pointer"},
		{"map containing itself", selfRef, "nested more than"},
		{"top-level channel", make(chan int), "chan int"},
		{"panicking GobEncode", map[any]any{"p": serTestPanicker{}}, "boom"},
	}
	var s CompactSerializer
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := s.Serialize(tt.v)
			if !errors.Is(err, ErrSerialize) || b != nil {
				t.Fatalf("Serialize = %q, %v; want nil, ErrSerialize", b, err)
			}
			if !strings.HasPrefix(err.Error(), "sessions: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q: want prefix %q and %q", err, "sessions: ", tt.want)
			}
			dst := []byte("keep")
			out, err := compact.Append(dst, tt.v)
			if !errors.Is(err, ErrSerialize) || string(out) != "keep" {
				t.Fatalf("compact.Append = %q, %v; want %q, ErrSerialize", out, err, "keep")
			}
		})
	}
}

// serCompact builds a compact-format input from its parts.
func serCompact(parts ...any) []byte {
	b := []byte{compact.Magic}
	for _, p := range parts {
		switch x := p.(type) {
		case byte:
			b = append(b, x)
		case int: // a uvarint
			b = binary.AppendUvarint(b, uint64(x))
		case uint64:
			b = binary.AppendUvarint(b, x)
		case string:
			b = append(b, x...)
		case []byte:
			b = append(b, x...)
		default:
			panic("serCompact: bad part")
		}
	}
	return b
}

func TestSerializerDeserializeErrors(t *testing.T) {
	deep := []byte{compact.Magic}
	for range compact.MaxDepth + 1 {
		deep = append(deep, compact.TagList, 2)
	}
	deep = append(deep, compact.TagNil)
	okDeep := append([]byte{compact.Magic}, deep[3:]...)

	var gobInt bytes.Buffer
	if err := gob.NewEncoder(&gobInt).Encode(42); err != nil {
		t.Fatal(err)
	}
	var gobSlice bytes.Buffer
	var sliceValue any = []int{1}
	if err := gob.NewEncoder(&gobSlice).Encode(&sliceValue); err != nil {
		t.Fatal(err)
	}
	var gobUnknown bytes.Buffer
	var unknownValue any = serTestPoint{X: 1}
	if err := gob.NewEncoder(&gobUnknown).Encode(&unknownValue); err != nil {
		t.Fatal(err)
	}
	gobUnknownName := bytes.Replace(gobUnknown.Bytes(), []byte("serTestPoint"), []byte("serTestPoinX"), 1)

	tests := []struct {
		name string
		in   []byte
		dst  any
		want string
	}{
		{"empty", nil, new(any), "empty input"},
		{"magic only", []byte{compact.Magic}, new(any), "truncated"},
		{"unknown version 0x80", []byte{0x80, 0}, new(any), "unknown format version 0x80"},
		{"unknown version 0xF7", []byte{0xF7, 0}, new(any), "unknown format version 0xF7"},
		{"unknown version 0xC2", []byte{0xC2, 0}, new(any), "unknown format version"},
		{"unknown tag", serCompact(byte(0x7F)), new(any), "unknown type tag 0x7F"},
		{"trailing data", serCompact(compact.TagNil, compact.TagNil), new(any), "trailing data"},
		{"truncated string", serCompact(compact.TagString, 10, "abc"), new(any), "exceeds"},
		{"huge string length", serCompact(compact.TagString, uint64(1)<<62, "abc"), new(any), "exceeds"},
		{"huge bytes count", serCompact(compact.TagBytes, uint64(math.MaxUint64)), new(any), "exceeds"},
		{"huge list count", serCompact(compact.TagList, uint64(1)<<40, compact.TagNil), new(any), "exceeds"},
		{"huge strings count", serCompact(compact.TagStrings, 1<<20), new(any), "exceeds"},
		{"huge map count", serCompact(compact.TagMap, 1<<30, compact.TagNil, compact.TagNil), new(any), "exceeds"},
		{"huge string map count", serCompact(compact.TagStringMap, 5, 0, compact.TagNil), new(any), "exceeds"},
		{"huge time length", serCompact(compact.TagTime, uint64(1)<<33), new(any), "exceeds"},
		{"huge gob length", serCompact(compact.TagGob, uint64(1)<<33), new(any), "exceeds"},
		{"varint overflow", serCompact(compact.TagUint64, strings.Repeat("\xff", 10), byte(1)), new(any), "overflows"},
		{"truncated varint", serCompact(compact.TagInt, byte(0x80)), new(any), "truncated"},
		{"truncated float64", serCompact(compact.TagFloat64, "1234567"), new(any), "truncated"},
		{"truncated float32", serCompact(compact.TagFloat32, "123"), new(any), "truncated"},
		{"truncated list", serCompact(compact.TagList, 3, compact.TagNil), new(any), "exceeds"},
		{"truncated list element", serCompact(compact.TagList, 2, compact.TagString), new(any), "truncated"},
		{"int8 missing", serCompact(compact.TagInt8), new(any), "truncated"},
		{"int16 out of range", binary.AppendVarint(serCompact(compact.TagInt16), 1<<15), new(any), "int16 out of range"},
		{"int32 out of range", binary.AppendVarint(serCompact(compact.TagInt32), -(1<<31)-1), new(any), "int32 out of range"},
		{"uint16 out of range", serCompact(compact.TagUint16, 1<<16), new(any), "uint16 out of range"},
		{"uint32 out of range", serCompact(compact.TagUint32, uint64(1)<<32), new(any), "uint32 out of range"},
		{"bad time", serCompact(compact.TagTime, 3, "abc"), new(any), "time.Time"},
		{"excessive nesting", deep, new(any), "nested more than"},
		{"unhashable key list", serCompact(compact.TagMap, 2, compact.TagList, 1, compact.TagNil), new(any), "not comparable"},
		{"unhashable key bytes", serCompact(compact.TagMap, 2, compact.TagBytes, 1, compact.TagNil), new(any), "not comparable"},
		{"unhashable key gob", append(serCompact(compact.TagMap, 2, compact.TagGob, gobSlice.Len()), gobSlice.Bytes()...), new(any), "not comparable"},
		{"gob value of a concrete type", append(serCompact(compact.TagList, 2, compact.TagGob, gobInt.Len()), gobInt.Bytes()...), new(any), "gob value"},
		{"gob value of unknown type", append(serCompact(compact.TagList, 2, compact.TagGob, len(gobUnknownName)), gobUnknownName...), new(any), "not registered"},
		{"gob garbage", []byte{0x05, 0xff, 0xff, 0xff, 0xff, 0xff}, new(map[any]any), "sessions: cannot deserialize"},
		{"gob into a nil *map", gobInt.Bytes(), (*map[any]any)(nil), "sessions: cannot deserialize"},
		{"gob into a non-pointer", gobInt.Bytes(), 0, "sessions: cannot deserialize"},
		{"gob of another type", gobInt.Bytes(), new(map[any]any), "received remote type int"},
		{"nil destination", serCompact(compact.TagNil), nil, "destination is nil"},
		{"non-pointer destination", serCompact(compact.TagNil), map[any]any{}, "not a pointer"},
		{"nil *string", serCompact(compact.TagString, 1, "a"), (*string)(nil), "nil *string"},
		{"nil *map", serCompact(compact.TagMap, 1), (*map[any]any)(nil), "nil *map"},
		{"string into a nil *map", serCompact(compact.TagString, 1, "a"), (*map[any]any)(nil), "nil *map"},
		{"nil *any", serCompact(compact.TagNil), (*any)(nil), "nil *interface"},
		{"nil *int", serCompact(compact.TagInt, 2), (*int)(nil), "nil *int"},
		{"map into *string", serCompact(compact.TagMap, 1), new(string), "cannot store"},
		{"string into *map", serCompact(compact.TagString, 1, "a"), new(map[any]any), "cannot store"},
		{"string map into *map", serCompact(compact.TagStringMap, 1), new(map[any]any), "cannot store"},
		{"int into *int64", serCompact(compact.TagInt, 2), new(int64), "cannot store"},
		{"nil into *int", serCompact(compact.TagNil), new(int), "cannot store"},
		{"string with trailing data into *string", serCompact(compact.TagString, 1, "ab"), new(string), "trailing"},
	}
	var s CompactSerializer
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Deserialize(tt.in, tt.dst)
			if !errors.Is(err, ErrDeserialize) {
				t.Fatalf("Deserialize(%x) = %v, want ErrDeserialize", tt.in, err)
			}
			if !strings.HasPrefix(err.Error(), "sessions: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q: want prefix %q and %q", err, "sessions: ", tt.want)
			}
		})
	}

	// One level less than the excessive nesting decodes.
	var v any
	if err := s.Deserialize(okDeep, &v); err != nil {
		t.Fatalf("%d nested lists: %v", compact.MaxDepth, err)
	}
}

// TestSerializerTruncations checks every proper prefix of valid encodings:
// each must fail cleanly with ErrDeserialize.
func TestSerializerTruncations(t *testing.T) {
	var s CompactSerializer
	for _, v := range serFuzzSeedValues() {
		b, err := s.Serialize(v)
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(b) {
			for _, dst := range []any{new(any), new(map[any]any), new(string)} {
				if err := s.Deserialize(b[:n], dst); !errors.Is(err, ErrDeserialize) {
					t.Fatalf("Deserialize(%x) into %T (prefix %d of %d of %#v) = %v, want ErrDeserialize", b[:n], dst, n, len(b), v, err)
				}
			}
		}
	}
}

// TestSerializerConcurrent exercises the buffer pool from many goroutines
// (meaningful under -race).
func TestSerializerConcurrent(t *testing.T) {
	var s CompactSerializer
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				in := map[any]any{"g": g, "i": i, "s": strings.Repeat("x", i)}
				b, err := s.Serialize(in)
				if err != nil {
					t.Error(err)
					return
				}
				var out map[any]any
				if err := s.Deserialize(b, &out); err != nil || !serEqual(in, out) {
					t.Errorf("got %#v, %v; want %#v", out, err, in)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestSerializerReferenceSize documents how much smaller the compact
// encoding of the reference session is than gob's.
func TestSerializerReferenceSize(t *testing.T) {
	b, err := CompactSerializer{}.Serialize(serRefValues())
	if err != nil {
		t.Fatal(err)
	}
	g, err := securecookie.GobEncoder{}.Serialize(serRefValues())
	if err != nil {
		t.Fatal(err)
	}
	// 1 magic + 1 tag + 1 count + 9 + 7 + 6 + 15 + 8 + 2 bytes.
	if len(b) != 50 {
		t.Errorf("compact encoding of the reference map is %d bytes, want 50", len(b))
	}
	if len(b) >= len(g) {
		t.Errorf("compact %d bytes, gob %d bytes", len(b), len(g))
	}
	t.Logf("reference map: compact %d bytes, gob %d bytes", len(b), len(g))
}

// TestSerializerReadsGobShapes checks that gob data of intricate shapes
// decodes: interface values inside structs that carry type definitions,
// nil interface values in struct fields, recursive and embedded types.
func TestSerializerReadsGobShapes(t *testing.T) {
	nils := make([]any, 12)
	mixed := []any{nil, serTestPoint{X: 1}, nil, "s", serTestRole("r"), nil,
		map[string]any{"p": serTestPoint{}}, serTestHolder{Any: serTestPoint{Y: 2}, List: []any{nil}}}
	big := map[any]any{"p": serTestPoint{X: 1}}
	for i := range 300 {
		big[i] = i
	}
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		v    any
		dst  func() any
	}{
		{"holder with a point", map[any]any{"h": serTestHolder{Any: serTestPoint{X: 1}}}, nil},
		{"holder with nils", map[any]any{"h": serTestHolder{List: nils}}, nil},
		{"holder mixed", map[any]any{"h": serTestHolder{List: mixed, M: map[string]any{"a": serTestPoint{}, "b": nil},
			When: when, P: &serTestPoint{Tag: "p"}, Arr: [3]int{1, 2, 3}}}, nil},
		{"five holders", map[any]any{"hs": []any{
			serTestHolder{Any: 1}, serTestHolder{Any: serTestPoint{}}, serTestHolder{List: nils[:3]},
			serTestHolder{M: map[string]any{"x": nil}}, serTestHolder{Any: serTestRole("r")}}}, nil},
		{"flashes of structs", map[any]any{"_flash": []any{serTestPoint{X: 1}, serTestPoint{X: 2}}}, nil},
		{"nested maps", map[any]any{"m": map[string]any{"p": serTestPoint{}, "q": map[string]any{"r": serTestRole("x")}}}, nil},
		{"tree", map[any]any{"t": serTestTree{Name: "a", Kids: []*serTestTree{{Name: "b", Kids: []*serTestTree{{Name: "c"}}}}, Meta: map[string]int{"x": 1}}}, nil},
		{"big map", big, nil},
		{"top-level holder", serTestHolder{List: mixed, Any: serTestPoint{}}, func() any { return new(serTestHolder) }},
		{"top-level tree", serTestTree{Name: "root", Kids: []*serTestTree{{Name: "leaf"}}}, func() any { return new(serTestTree) }},
	}
	var s CompactSerializer
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := securecookie.GobEncoder{}.Serialize(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			dst := any(new(map[any]any))
			if tt.dst != nil {
				dst = tt.dst()
			}
			if err := s.Deserialize(b, dst); err != nil {
				t.Fatal(err)
			}
			if got := reflect.ValueOf(dst).Elem().Interface(); !reflect.DeepEqual(got, tt.v) && !serEqual(got, tt.v) {
				t.Fatalf("got %#v, want %#v", got, tt.v)
			}
			// And the same values inside the compact format, one gob value
			// each.
			if m, ok := tt.v.(map[any]any); ok {
				serRoundTrip(t, m)
			}
		})
	}
}

// TestSerializerDeterministic: equal values give equal bytes, whatever the
// order in which their maps were filled and are iterated.
func TestSerializerDeterministic(t *testing.T) {
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	build := func(reverse bool) map[any]any {
		m := map[any]any{}
		for i := range 20 {
			if reverse {
				i = 19 - i
			}
			m[fmt.Sprint("key", i)] = i
			m[i] = map[string]any{"a": i, "b": []any{map[any]any{true: 1, 2.5: "x", when: nil}}, fmt.Sprint(i): i}
		}
		return m
	}
	var s CompactSerializer
	want, err := s.Serialize(build(false))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		got, err := s.Serialize(build(i%2 == 1))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("run %d: the same values serialized to other bytes", i)
		}
	}
	ref, err := s.Serialize(serRefValues())
	if err != nil {
		t.Fatal(err)
	}
	// The entries are sorted by their encoded keys: "name", "user_id",
	// "visits" all have the string tag, then lengths 4, 7, 6.
	if i, j, k := bytes.Index(ref, []byte("name")), bytes.Index(ref, []byte("visits")), bytes.Index(ref, []byte("user_id")); i > j || j > k {
		t.Fatalf("entries out of order in %q", ref)
	}
}

// TestSerializerDropsUndecodableValues: in session values, an entry whose
// value cannot be decoded is left out alone; elsewhere it fails the input.
func TestSerializerDropsUndecodableValues(t *testing.T) {
	var s CompactSerializer
	values := map[any]any{
		"user": "alice", "cart": serTestPoint{X: 1}, "n": 3,
		"flash": []any{"hi", serTestPoint{X: 2}}, "nested": map[string]any{"p": serTestPoint{}},
		"role": serTestRole("admin"),
	}
	b, err := s.Serialize(values)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(b, []byte("serTestPoint"), []byte("serTestPoinX")) // renamed: not registered
	var got map[any]any
	err = s.Deserialize(b, &got)
	var dv *compact.DroppedError
	if !errors.As(err, &dv) || !errors.Is(err, ErrDeserialize) {
		t.Fatalf("Deserialize = %v, want a *compact.DroppedError wrapping ErrDeserialize", err)
	}
	if len(got) != 3 || got["user"] != "alice" || got["n"] != 3 || got["role"] != serTestRole("admin") {
		t.Fatalf("kept %#v, want user, n and role", got)
	}
	msg := err.Error()
	for _, k := range []string{"cart", "flash", "nested"} {
		if !strings.Contains(msg, k) {
			t.Fatalf("error %q does not name %s", msg, k)
		}
	}
	if !strings.HasPrefix(msg, "sessions: cannot deserialize values: dropped") || strings.Count(msg, "sessions: ") != 1 || len(dv.Keys) != 3 {
		t.Fatalf("error %q (keys %v)", msg, dv.Keys)
	}
	// Not in session values: the whole input fails.
	l, _ := s.Serialize([]any{"a", serTestPoint{}})
	var v any
	err = s.Deserialize(bytes.ReplaceAll(l, []byte("serTestPoint"), []byte("serTestPoinX")), &v)
	if !errors.Is(err, ErrDeserialize) || errors.As(err, &dv) || v != nil {
		t.Fatalf("a list with an undecodable value: %v, %v", v, err)
	}
}

// TestSerializerIntWiderThanPlatform: an int or uint that a 64-bit server
// stored in the session values, read where an int has 32 bits, is dropped
// alone, as a value that no longer fits its type; the rest of the session
// loads. With a 64-bit int, it loads.
func TestSerializerIntWiderThanPlatform(t *testing.T) {
	const big = 1 << 40
	for _, tag := range []byte{compact.TagInt, compact.TagUint} {
		b := serCompact(compact.TagMap, 3, compact.TagString, 4, "user", compact.TagString, 5, "alice",
			compact.TagString, 3, "big", tag)
		if tag == compact.TagInt {
			b = binary.AppendVarint(b, big)
		} else {
			b = binary.AppendUvarint(b, big)
		}
		var got map[any]any
		err := CompactSerializer{}.Deserialize(b, &got)
		if got["user"] != "alice" {
			t.Fatalf("tag 0x%02X: got %#v, %v; want alice's values", tag, got, err)
		}
		var dv *compact.DroppedError
		if strconv.IntSize == 64 {
			if err != nil || fmt.Sprint(got["big"]) != "1099511627776" {
				t.Errorf("tag 0x%02X: big = %#v, %v; want 1<<40", tag, got["big"], err)
			}
		} else if !errors.As(err, &dv) || !errors.Is(err, ErrDeserialize) || len(dv.Keys) != 1 || dv.Keys[0] != "big" || len(got) != 1 {
			t.Errorf("tag 0x%02X: got %#v, %v; want big dropped alone", tag, got, err)
		}
	}
}

// TestSerializerPointerValues: as with gob (and gorilla/sessions), a
// pointer stored in the session comes back as the value it points to.
func TestSerializerPointerValues(t *testing.T) {
	in := map[any]any{"cart": &serTestPoint{X: 2, Tag: "c"}}
	for _, sz := range []securecookie.Serializer{CompactSerializer{}, securecookie.GobEncoder{}} {
		b, err := sz.Serialize(in)
		if err != nil {
			t.Fatal(err)
		}
		var got map[any]any
		if err := sz.Deserialize(b, &got); err != nil || got["cart"] != (serTestPoint{X: 2, Tag: "c"}) {
			t.Fatalf("%T: got %#v (%T), %v; want a serTestPoint", sz, got["cart"], got["cart"], err)
		}
	}
}
